import type { JobDefinition } from "./scheduler";
import { sessionCleanupJob } from "./session-cleanup";

/** Every job MediaNest runs; the admin jobs page lists them in this order. */
export function allJobs(): JobDefinition[] {
  return [sessionCleanupJob];
}
