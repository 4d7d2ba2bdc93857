/** What follows a download that finished: Plex rescans its folders, the user is told (with what went wrong). */
import { dirname } from "node:path";
import { listDownloadItems, type Download } from "../store/downloads";
import { rescanFolder } from "./download-plex";
import type { WorkerDeps } from "./download-worker";
import { notify } from "./notifications";

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
      await notify(deps, download.userId, {
        kind: "download.finished",
        title: "Download finished",
        body: `${what} is in your library.`,
        link: "/downloads",
      });
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
