import type { AppDeps } from "../app/deps";
import { insertAuditEntry } from "../store/audit";
import type { User } from "../store/users";

/** Who did something and from where. */
export interface Actor {
  user?: Pick<User, "id" | "username"> | undefined;
  /** Who acted when no user did (the command line); "anonymous" when neither is given. */
  name?: string;
  ip?: string | null;
}

// Keys whose values must never reach the audit log, whatever a caller passes.
const SECRET_KEY = /token|secret|password|apikey|api_key|key$/i;

/** Record an action in the audit log; secret-looking detail fields are dropped. Never throws into the caller. */
export async function audit(
  deps: Pick<AppDeps, "database" | "log">,
  actor: Actor,
  action: string,
  target?: { type: string; id: string },
  detail: Record<string, unknown> = {},
): Promise<void> {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) if (!SECRET_KEY.test(k)) clean[k] = v;
  try {
    await insertAuditEntry(deps.database, {
      actorId: actor.user?.id ?? null,
      actorName: actor.user?.username ?? actor.name ?? "anonymous",
      action,
      targetType: target?.type ?? null,
      targetId: target?.id ?? null,
      detail: clean,
      ip: actor.ip ?? null,
    });
  } catch (err) {
    deps.log.error("audit: unable to record", { action, error: (err as Error).message });
  }
}
