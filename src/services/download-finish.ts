/** What follows a download that finished: the user is told, with what went wrong when something did. */
import { listDownloadItems, type Download } from "../store/downloads";
import type { WorkerDeps } from "./download-worker";
import { notify } from "./notifications";

/** Tell the owner that a download finished (completed, or failed with the reason); never throws. */
export async function afterDownloadFinished(deps: WorkerDeps, download: Download): Promise<void> {
  try {
    if (download.status === "cancelled") return;
    const items = await listDownloadItems(deps.database, download.id);
    const done = items.filter((i) => i.status === "completed").length;
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
