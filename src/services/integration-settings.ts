/** Saving the integrations page: each change is stored (secrets encrypted) and audited without its secrets. */
import type { AppDeps } from "../app/deps";
import { type Actor, audit } from "./audit";
import { forgetDashboardCache } from "./dashboard";
import { connectPlex, type PlexConnection } from "./integration-checks";
import { forgetStoredOverview } from "./status";
import {
  getIntegrations,
  type Integrations,
  type LibraryFolder,
  removeIntegration,
  saveKumaIntegration,
  saveLibraries,
  savePlexIntegration,
  saveSeerrIntegration,
  saveYtdlpPath,
} from "./integrations";

type Deps = Pick<
  AppDeps,
  "database" | "secretBox" | "fetch" | "metrics" | "log" | "integrationTimeoutMs" | "coordination"
>;

/** An integration's settings as a page may show them: secrets reduced to whether one is saved. */
export interface IntegrationsView {
  plex: { url: string; hasToken: boolean; machineIdentifier: string | null; name: string | null } | undefined;
  seerr: { url: string; hasApiKey: boolean } | undefined;
  kuma: { url: string; slug: string; hasApiKey: boolean } | undefined;
  ytdlpPath: string;
  libraries: LibraryFolder[];
}

/** Reduce settings to what a page may show; no secret value survives this. */
export function toIntegrationsView(i: Integrations): IntegrationsView {
  return {
    plex: i.plex
      ? {
          url: i.plex.url,
          hasToken: Boolean(i.plex.token),
          machineIdentifier: i.plex.machineIdentifier,
          name: i.plex.name,
        }
      : undefined,
    seerr: i.seerr ? { url: i.seerr.url, hasApiKey: Boolean(i.seerr.apiKey) } : undefined,
    kuma: i.kuma ? { url: i.kuma.url, slug: i.kuma.slug, hasApiKey: Boolean(i.kuma.apiKey) } : undefined,
    ytdlpPath: i.ytdlpPath,
    libraries: i.libraries,
  };
}

/** Keep each section's folder across a reload of the sections from Plex; sections Plex no longer has are dropped. */
export function mergeLibraries(sections: PlexConnection["sections"], existing: LibraryFolder[]): LibraryFolder[] {
  return sections.map((s) => ({
    sectionKey: s.key,
    title: s.title,
    type: s.type,
    folder: existing.find((l) => l.sectionKey === s.key)?.folder ?? "",
  }));
}

/**
 * Connect to the Plex server (reading its machine identifier from /identity and its library sections), then save
 * it; an empty token keeps the stored one. Throws ConnectionFailure naming the field when Plex cannot be used.
 */
export async function connectAndSavePlex(
  deps: Deps,
  actor: Actor,
  v: { url: string; token: string; storedToken: string | null },
): Promise<PlexConnection> {
  const token = v.token || v.storedToken || "";
  const connection = await connectPlex(deps, { url: v.url, token });
  const current = await getIntegrations(deps);
  // What the dashboard cached was read with the old settings (another token may see other streams).
  await forgetDashboardCache(deps);
  await savePlexIntegration(deps, {
    url: v.url,
    ...(v.token ? { token: v.token } : {}),
    machineIdentifier: connection.machineIdentifier,
    name: connection.name,
  });
  await saveLibraries(deps, mergeLibraries(connection.sections, current.libraries));
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(
    deps,
    actor,
    "settings.change",
    { type: "settings", id: "integrations.plex" },
    {
      url: v.url,
      machineIdentifier: connection.machineIdentifier,
      sections: connection.sections.length,
      credentialsUpdated: Boolean(v.token),
    },
  );
  return connection;
}

/**
 * Save the Plex server's address (and token, when one is given) although the server could not be asked for its
 * identity: the machine identifier and library sections stay as they were until a save reaches it.
 */
export async function savePlexUnreached(
  deps: Deps,
  actor: Actor,
  v: { url: string; token: string; why: string },
): Promise<void> {
  await forgetDashboardCache(deps);
  await savePlexIntegration(deps, { url: v.url, ...(v.token ? { token: v.token } : {}) });
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(
    deps,
    actor,
    "settings.change",
    { type: "settings", id: "integrations.plex" },
    { url: v.url, reached: false, reason: v.why, credentialsUpdated: Boolean(v.token) },
  );
}

/** Save the Seerr settings; an empty API key keeps the stored one. */
export async function saveSeerr(deps: Deps, actor: Actor, v: { url: string; apiKey: string }): Promise<void> {
  await saveSeerrIntegration(deps, { url: v.url, ...(v.apiKey ? { apiKey: v.apiKey } : {}) });
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(
    deps,
    actor,
    "settings.change",
    { type: "settings", id: "integrations.seerr" },
    { url: v.url, credentialsUpdated: Boolean(v.apiKey) },
  );
}

/** Save the Uptime Kuma settings; an empty API key keeps the stored one unless asked to clear it. */
export async function saveKuma(
  deps: Deps,
  actor: Actor,
  v: { url: string; slug: string; apiKey: string; clearApiKey: boolean },
): Promise<void> {
  if (v.clearApiKey) {
    // saveKumaIntegration keeps a stored key when given none: remove everything, then save without a key.
    await removeIntegration(deps, "kuma");
    await saveKumaIntegration(deps, { url: v.url, slug: v.slug });
  } else {
    await saveKumaIntegration(deps, { url: v.url, slug: v.slug, ...(v.apiKey ? { apiKey: v.apiKey } : {}) });
  }
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(
    deps,
    actor,
    "settings.change",
    { type: "settings", id: "integrations.kuma" },
    {
      url: v.url,
      slug: v.slug,
      credentialsUpdated: Boolean(v.apiKey) || v.clearApiKey,
      credentialsCleared: v.clearApiKey,
    },
  );
}

/** Forget Seerr or Uptime Kuma. */
export async function removeService(deps: Deps, actor: Actor, service: "seerr" | "kuma"): Promise<void> {
  await removeIntegration(deps, service);
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(deps, actor, "settings.change", { type: "settings", id: `integrations.${service}` }, { removed: true });
}

/** Save the yt-dlp binary path. */
export async function saveYtdlp(deps: Deps, actor: Actor, path: string): Promise<void> {
  await saveYtdlpPath(deps, path);
  await deps.coordination.cache.delete(ytdlpVersionCacheKey(path));
  // Tiles built from stored checks list the configured services: build them again with the new settings.
  await forgetStoredOverview(deps);
  await audit(deps, actor, "settings.change", { type: "settings", id: "integrations.ytdlp" }, { path });
}

/** Save the folder of each known library section (empty means no downloads into that library). */
export async function saveLibraryFolders(
  deps: Deps,
  actor: Actor,
  folders: Record<string, string>,
): Promise<LibraryFolder[]> {
  const current = await getIntegrations(deps);
  const next = current.libraries.map((l) => ({ ...l, folder: folders[l.sectionKey] ?? l.folder }));
  await saveLibraries(deps, next);
  await audit(
    deps,
    actor,
    "settings.change",
    { type: "settings", id: "integrations.libraries" },
    {
      libraries: next.map((l) => ({ section: l.title, folder: l.folder })),
    },
  );
  return next;
}

/** The cache key under which a binary's `--version` answer is kept for a minute. */
export function ytdlpVersionCacheKey(path: string): string {
  return `integrations:ytdlp-version:${path}`;
}
