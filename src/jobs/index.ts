import type { Config } from "../config/options";
import { backupJob } from "./backup";
import { downloadQueueJob } from "./download-queue";
import { downloadSubscriptionsJob } from "./download-subscriptions";
import { notificationDeliveriesJob } from "./notification-deliveries";
import { requestSyncJob } from "./request-sync";
import type { JobDefinition } from "./scheduler";
import { sessionCleanupJob } from "./session-cleanup";
import { statusChecksJob } from "./status-checks";
import { statusHistoryRetentionJob } from "./status-history-retention";

/** Every job MediaNest runs; the admin jobs page lists them in this order. */
export function allJobs(config?: Pick<Config, "backupSchedule">): JobDefinition[] {
  const schedule = config?.backupSchedule ?? "17 3 * * *";
  return [
    sessionCleanupJob,
    statusChecksJob,
    statusHistoryRetentionJob,
    notificationDeliveriesJob,
    downloadQueueJob,
    downloadSubscriptionsJob,
    requestSyncJob,
    // MEDIANEST_BACKUP_SCHEDULE=off leaves the backup to something outside MediaNest.
    ...(schedule === "off" ? [] : [backupJob(schedule)]),
  ];
}
