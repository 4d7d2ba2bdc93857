import type { AppDeps } from "../app/deps";
import { insertAuditEntry } from "../store/audit";
import type { User } from "../store/users";

/**
 * Every action MediaNest records in the audit log, with the words the audit log shows for it (and offers in its
 * filter). audit() takes only these, so an action cannot be written without its words.
 */
export const AUDIT_ACTIONS = {
  "signin.success": "Signed in",
  "signin.failure": "Sign-in refused",
  "setup.admin_created": "First administrator created",
  "user.create": "User added",
  "user.profile_change": "Display name changed",
  "user.role_change": "Role changed",
  "user.permissions_change": "Permissions changed",
  "user.quotas_change": "Quotas changed",
  "user.disable": "User disabled",
  "user.enable": "User enabled",
  "user.delete": "User deleted",
  "user.password_change": "Password changed",
  "user.password_reset": "Password reset by an administrator",
  "user.plex_linked": "Plex account linked",
  "user.seerr_link": "Seerr account linked by hand",
  "user.seerr_unlink": "Seerr account link cleared",
  "request.create": "Request made",
  "request.approve": "Request approved",
  "request.decline": "Request declined",
  "request.cancel": "Request cancelled",
  "download.create": "Download added",
  "download.approve": "Download approved",
  "download.decline": "Download declined",
  "download.cancel": "Download cancelled",
  "download.retry": "Download retried",
  "download.remove": "Download removed from the history",
  "download.delete_files": "Downloaded files deleted",
  "subscription.create": "Subscription added",
  "subscription.pause": "Subscription paused",
  "subscription.resume": "Subscription resumed",
  "subscription.remove": "Subscription removed",
  "session.revoke": "Session signed out",
  "token.create": "API token created",
  "token.revoke": "API token revoked",
  "settings.change": "Settings changed",
  "settings.seerr_webhook_secret": "Seerr webhook secret replaced",
  "settings.seerr_import": "Seerr user import switched",
  "announcement.send": "Announcement sent",
  "notifications.switches": "Notification switches changed",
  "job.run": "Job run by hand",
} as const satisfies Record<string, string>;

/** An action the audit log records. */
export type AuditAction = keyof typeof AUDIT_ACTIONS;

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
  action: AuditAction,
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
