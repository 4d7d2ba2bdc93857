import type { AppDeps } from "../app/deps";
import type { DownloadWorkers } from "../services/download-worker";
import type { JobDefinition } from "./scheduler";

// The workers each replica runs, once there has been work (an idle server never loads the download code).
const started = new WeakMap<AppDeps, Promise<DownloadWorkers>>();

/** Stop this replica's download workers, if they were started: running downloads hand their items back. */
export async function stopDownloadWorkers(deps: AppDeps): Promise<void> {
  const workers = started.get(deps);
  if (!workers) return;
  started.delete(deps);
  await (await workers).stop();
}

/** Start the download workers of this replica when there is work for them (new, due or taken over). */
export const downloadQueueJob: JobDefinition = {
  id: "download-queue",
  description: "Start this server's downloads when some wait (from then on it takes new ones as they come).",
  schedule: "*/10 * * * * *",
  singleton: false,
  async run(deps) {
    const running = started.get(deps);
    if (running) return `${(await running).active()} downloading here`;
    const { hasClaimableItems } = await import("../store/downloads");
    if (!(await hasClaimableItems(deps.database, new Date()))) return "nothing to download";
    const workers = import("../services/download-worker").then(async ({ createDownloadWorkers }) => {
      const w = createDownloadWorkers(deps, { leaseMs: deps.config.downloadLease * 1000 });
      await w.start();
      return w;
    });
    started.set(deps, workers);
    workers.catch(() => started.delete(deps));
    await workers;
    return "download workers started";
  },
};
