import { deleteExpiredSessions } from "../store/sessions";
import type { JobDefinition } from "./scheduler";

/** Remove sessions past their absolute or idle expiry. */
export const sessionCleanupJob: JobDefinition = {
  id: "session-cleanup",
  description: "Remove expired and idle sessions.",
  schedule: "17 * * * *",
  singleton: true,
  async run(deps) {
    const now = new Date();
    const idleBefore = new Date(now.getTime() - deps.config.sessionIdleDays * 86_400_000);
    const n = await deleteExpiredSessions(deps.database, now, idleBefore);
    return `${n} sessions removed`;
  },
};
