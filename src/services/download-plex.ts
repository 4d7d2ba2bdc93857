/** Plex's side of downloads: rescan only the folder a file went into (or left). */
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
