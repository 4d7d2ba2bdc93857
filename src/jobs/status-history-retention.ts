import { deleteServiceChecksBefore } from "../store/service-checks";
import type { JobDefinition } from "./scheduler";

/** How long MediaNest keeps its own check results: the status page's 30 days, and a day to show they are covered. */
export const STATUS_HISTORY_DAYS = 31;

/** Delete status check results older than the retention period. */
export const statusHistoryRetentionJob: JobDefinition = {
  id: "status-history-retention",
  description: `Delete status check results older than ${STATUS_HISTORY_DAYS} days.`,
  schedule: "41 3 * * *",
  singleton: true,
  async run(deps) {
    const before = new Date(Date.now() - STATUS_HISTORY_DAYS * 86_400_000);
    const n = await deleteServiceChecksBefore(deps.database, before);
    return `${n} status checks removed`;
  },
};
