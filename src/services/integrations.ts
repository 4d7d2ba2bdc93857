import { z } from "zod";
import type { AppDeps } from "../app/deps";
import type { Database } from "../db/database";
import { deleteSetting, listSettings, settingsVersion, upsertSetting } from "../store/settings";

type SettingsDeps = Pick<AppDeps, "database" | "secretBox">;

/** The Plex Media Server MediaNest talks to. */
export interface PlexIntegration {
  url: string;
  token: string;
  machineIdentifier: string | null;
  name: string | null;
}

/** Seerr, Overseerr or Jellyseerr. */
export interface SeerrIntegration {
  url: string;
  apiKey: string;
}

/** Uptime Kuma's public status page (and optionally its /metrics). */
export interface KumaIntegration {
  url: string;
  slug: string;
  apiKey: string | null;
}

/** A Plex library section mapped to the folder on disk where downloads for it go. */
export interface LibraryFolder {
  sectionKey: string;
  title: string;
  type: string;
  folder: string;
}

/** Every integration's settings; a service is undefined until configured. */
export interface Integrations {
  plex?: PlexIntegration;
  seerr?: SeerrIntegration;
  kuma?: KumaIntegration;
  /** The yt-dlp binary: the saved path, or "yt-dlp" from the PATH. */
  ytdlpPath: string;
  /** True once an admin saved a yt-dlp path (the default alone does not count as configured). */
  ytdlpConfigured: boolean;
  libraries: LibraryFolder[];
}

const librariesSchema = z.array(
  z.object({ sectionKey: z.string(), title: z.string(), type: z.string(), folder: z.string() }),
);

// Most pages read the integrations, the dashboard twice: each replica keeps what it read for a second. Its own
// changes drop the copy at once (the store counts them); other replicas' changes are seen within the second, as
// with the maintenance notice. The copy is frozen: callers share it.
const LOCAL_MS = 1000;
const local = new WeakMap<Database, { integrations: Integrations; version: number; until: number }>();

/** Read every integration's settings (secrets decrypted, for server-side use only). */
export async function getIntegrations(deps: SettingsDeps): Promise<Integrations> {
  const version = settingsVersion(deps.database);
  const hit = local.get(deps.database);
  if (hit && hit.version === version && hit.until > performance.now()) return hit.integrations;
  const integrations = deepFreeze(await readIntegrations(deps));
  if (settingsVersion(deps.database) === version)
    local.set(deps.database, { integrations, version, until: performance.now() + LOCAL_MS });
  return integrations;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

async function readIntegrations(deps: SettingsDeps): Promise<Integrations> {
  const s = await listSettings(deps.database, deps.secretBox);
  const plexUrl = s.get("plex.server_url");
  const plexToken = s.get("plex.owner_token");
  let libraries: LibraryFolder[] = [];
  try {
    const parsed = librariesSchema.safeParse(JSON.parse(s.get("libraries") ?? "[]"));
    if (parsed.success) libraries = parsed.data;
  } catch {
    // a broken value reads as no mapping
  }
  return {
    plex:
      plexUrl && plexToken
        ? {
            url: plexUrl,
            token: plexToken,
            machineIdentifier: s.get("plex.machine_identifier") ?? null,
            name: s.get("plex.server_name") ?? null,
          }
        : undefined,
    seerr:
      s.get("seerr.url") && s.get("seerr.api_key")
        ? { url: s.get("seerr.url")!, apiKey: s.get("seerr.api_key")! }
        : undefined,
    kuma:
      s.get("kuma.url") && s.get("kuma.slug")
        ? { url: s.get("kuma.url")!, slug: s.get("kuma.slug")!, apiKey: s.get("kuma.api_key") || null }
        : undefined,
    ytdlpPath: s.get("ytdlp.path") || "yt-dlp",
    ytdlpConfigured: Boolean(s.get("ytdlp.path")),
    libraries,
  };
}

/** Save the Plex server settings; an empty token keeps the stored one. */
export async function savePlexIntegration(
  deps: SettingsDeps,
  v: { url: string; token?: string; machineIdentifier?: string; name?: string },
): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "plex.server_url", v.url);
  if (v.token) await upsertSetting(deps.database, deps.secretBox, "plex.owner_token", v.token, true);
  if (v.machineIdentifier)
    await upsertSetting(deps.database, deps.secretBox, "plex.machine_identifier", v.machineIdentifier);
  if (v.name) await upsertSetting(deps.database, deps.secretBox, "plex.server_name", v.name);
}

/** Save the Seerr settings; an empty API key keeps the stored one. */
export async function saveSeerrIntegration(deps: SettingsDeps, v: { url: string; apiKey?: string }): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "seerr.url", v.url);
  if (v.apiKey) await upsertSetting(deps.database, deps.secretBox, "seerr.api_key", v.apiKey, true);
}

/** Save the Uptime Kuma settings; an empty API key keeps the stored one. */
export async function saveKumaIntegration(
  deps: SettingsDeps,
  v: { url: string; slug: string; apiKey?: string },
): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "kuma.url", v.url);
  await upsertSetting(deps.database, deps.secretBox, "kuma.slug", v.slug);
  if (v.apiKey) await upsertSetting(deps.database, deps.secretBox, "kuma.api_key", v.apiKey, true);
}

/** Remove an integration's settings. */
export async function removeIntegration(deps: SettingsDeps, service: "seerr" | "kuma"): Promise<void> {
  const keys = service === "seerr" ? ["seerr.url", "seerr.api_key"] : ["kuma.url", "kuma.slug", "kuma.api_key"];
  for (const k of keys) await deleteSetting(deps.database, k);
}

/** Save the yt-dlp binary path. */
export async function saveYtdlpPath(deps: SettingsDeps, path: string): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "ytdlp.path", path);
}

/** Save the library-to-folder mapping. */
export async function saveLibraries(deps: SettingsDeps, libraries: LibraryFolder[]): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "libraries", JSON.stringify(librariesSchema.parse(libraries)));
}
