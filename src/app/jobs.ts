// What code outside jobs/ knows of the scheduler: its interface, what it reports, and the ids it is asked to run.

/** The id of the job that sends queued outbound notifications; outbound-notifications runs it at once when it queues one. */
export const DELIVERY_JOB_ID = "notification-deliveries";

/** The id of the scheduled backup job; the jobs page shows the backups beside it. */
export const BACKUP_JOB = "backup";

export type JobOutcome = "ok" | "failed" | "skipped";

/** What the admin page shows of a job. */
export interface JobStatus {
  id: string;
  description: string;
  schedule: string;
  singleton: boolean;
  running: boolean;
  nextRunAt: Date | null;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastStatus: JobOutcome | null;
  lastError: string | null;
  lastDurationMs: number | null;
}

/** Runs registered jobs on their schedules and on demand. */
export interface Scheduler {
  /** Start the schedules (serve does; tests call runNow instead). */
  start(): void;
  /** Stop the schedules and wait for running jobs to finish. */
  stop(): Promise<void>;
  /** Run a job now; "skipped" when it is already running here or another replica holds its lock. */
  runNow(id: string): Promise<JobOutcome>;
  has(id: string): boolean;
  list(): Promise<JobStatus[]>;
}
