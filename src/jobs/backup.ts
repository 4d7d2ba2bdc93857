import { BACKUP_JOB } from "../app/jobs";
import type { JobDefinition } from "./scheduler";

/** Back up the database on a schedule (one replica at a time) and delete the oldest beyond the retention. */
export function backupJob(schedule: string): JobDefinition {
  return {
    id: BACKUP_JOB,
    description: "Back up the database into the backup directory and delete the oldest beyond the number kept.",
    schedule,
    singleton: true,
    // A large PostgreSQL dump may take a while; the lock is extended while it runs.
    lockTtlMs: 600_000,
    async run(deps) {
      const { scheduledBackup } = await import("../services/backups");
      return scheduledBackup(deps);
    },
  };
}
