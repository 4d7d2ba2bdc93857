/**
 * What follows a download that finished: Plex rescans its folders, and the user is told (with what went wrong), a
 * finished one once Plex lists it, with a "Watch in Plex" link.
 */
import { dirname } from "node:path";
import { listDownloadItems, type Download } from "../store/downloads";
import { findPlexItemForFile, type PlexPlace, rescanFolder } from "./download-plex";
import type { WorkerDeps } from "./download-worker";
import { getIntegrations } from "./integrations";
import { notify } from "./notifications";
import { plexWebUrl } from "./plex-links";

/** How long to wait for Plex to list a finished file before telling the user without a link. */
export const PLEX_WAIT = { attempts: 12, intervalMs: 5_000 };

/** Wait for Plex to list a file (its scan runs after the rescan was asked for); undefined when it does not. */
async function waitForPlex(deps: WorkerDeps, sectionKey: string, file: string): Promise<PlexPlace | undefined> {
  for (let i = 0; i < PLEX_WAIT.attempts; i++) {
    const place = await findPlexItemForFile(deps, sectionKey, file);
    if (place) return place;
    await Bun.sleep(PLEX_WAIT.intervalMs);
  }
  return undefined;
}

/** Ask Plex to rescan the folders of a finished download's files, then tell the owner; never throws. */
export async function afterDownloadFinished(deps: WorkerDeps, download: Download): Promise<void> {
  try {
    if (download.status === "cancelled") return;
    const items = await listDownloadItems(deps.database, download.id);
    const done = items.filter((i) => i.status === "completed").length;
    // Only the folders the files went into: a rescan of a whole large library takes Plex minutes.
    const folders = new Set(
      items.flatMap((i) => (i.status === "completed" && i.filePath ? [dirname(i.filePath)] : [])),
    );
    for (const folder of folders) await rescanFolder(deps, download.sectionKey, folder);
    const what =
      download.kind === "playlist" ? `${download.title} (${done} of ${items.length} videos)` : download.title;
    if (download.status === "completed") {
      const first = items.find((i) => i.status === "completed" && i.filePath);
      const { plex } = await getIntegrations(deps);
      const tell = async (place: PlexPlace | undefined) =>
        notify(deps, download.userId, {
          kind: "download.finished",
          title: "Download finished",
          body: place ? `${what} is in your library: watch it in Plex.` : `${what} is in your library.`,
          link: place ? plexWebUrl(place.machineIdentifier, place.ratingKey) : "/downloads",
        });
      if (!plex || !first?.filePath) await tell(undefined);
      // Plex scans after the rescan returns: the notice waits for the item (off the worker's path) to link to it.
      else
        void waitForPlex(deps, download.sectionKey, first.filePath)
          .then(tell)
          .catch((err: Error) =>
            deps.log.warn("downloads: unable to tell the user a download finished", {
              download: download.id,
              error: err.message,
            }),
          );
    } else if (download.status === "failed") {
      await notify(deps, download.userId, {
        kind: "download.failed",
        title: "Download failed",
        body: `${what}: ${download.error ?? "it failed"}`,
        link: "/downloads",
      });
    }
  } catch (err) {
    deps.log.warn("downloads: unable to tell the user a download finished", {
      download: download.id,
      error: (err as Error).message,
    });
  }
}
