/** Plex's side of downloads: rescan only the folder a file went into (or left); find the item Plex made of a file. */
import type { AppDeps } from "../app/deps";
import { getIntegrations } from "./integrations";
import { plexServerClient } from "./plex-server";

type Deps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "log">;

/** Ask Plex to rescan one folder of a library section; false (and a log line) when Plex is absent or refuses. */
export async function rescanFolder(deps: Deps, sectionKey: string, folder: string): Promise<boolean> {
  try {
    const { plex } = await getIntegrations(deps);
    if (!plex) return false;
    const client = await plexServerClient(deps, plex);
    await client.refreshSection(sectionKey, folder);
    return true;
  } catch (err) {
    deps.log.warn("downloads: Plex rescan failed", { section: sectionKey, folder, error: (err as Error).message });
    return false;
  }
}

/** Where Plex shows a downloaded file: its item's rating key and the server's machine identifier. */
export interface PlexPlace {
  machineIdentifier: string;
  ratingKey: string;
}

/**
 * Find the item Plex made of a file, among the section's newest (a scan adds it there); undefined while Plex has
 * not listed it (yet), when Plex is absent, or when it fails (logged).
 */
export async function findPlexItemForFile(
  deps: Deps,
  sectionKey: string,
  file: string,
): Promise<PlexPlace | undefined> {
  try {
    const { plex } = await getIntegrations(deps);
    if (!plex?.machineIdentifier) return undefined;
    const client = await plexServerClient(deps, plex);
    const page = await client.browseSection(sectionKey, { start: 0, size: 50, sort: "added" });
    const item = page.items.find((i) => i.files.includes(file));
    return item ? { machineIdentifier: plex.machineIdentifier, ratingKey: item.ratingKey } : undefined;
  } catch (err) {
    deps.log.warn("downloads: unable to look the file up in Plex", {
      section: sectionKey,
      error: (err as Error).message,
    });
    return undefined;
  }
}
