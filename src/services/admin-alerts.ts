/** Notifications for administrators only: new accounts, deliveries given up on. */
import type { AppDeps } from "../app/deps";
import type { DeliveryWithTarget } from "../store/notification-targets";
import { findUserById, listUsers, type User } from "../store/users";
import { notify, type NotificationInput } from "./notifications";

type AlertDeps = Pick<AppDeps, "database" | "coordination" | "log"> & Partial<Pick<AppDeps, "jobs">>;

/** Send a notification to every active administrator (but `except`); returns how many received it. Never throws. */
export async function notifyAdmins(deps: AlertDeps, input: NotificationInput, except?: string): Promise<number> {
  try {
    const { users } = await listUsers(deps.database, { role: "admin", status: "active", limit: 500 });
    const to = users.filter((u) => u.id !== except);
    for (const u of to) await notify(deps, u.id, input);
    return to.length;
  } catch (err) {
    deps.log.error("admin-alerts: unable to notify administrators", {
      kind: input.kind,
      error: (err as Error).message,
    });
    return 0;
  }
}

/** Tell administrators an account was created (not the new account itself, when it is an admin). Never throws. */
export function alertAdminsOfNewUser(
  deps: AlertDeps,
  user: Pick<User, "id" | "username" | "displayName" | "role">,
  method: "local" | "plex" | "oidc",
): Promise<number> {
  const how =
    method === "local"
      ? "added by an administrator"
      : method === "plex"
        ? "signed in with Plex"
        : "signed in with single sign-on";
  return notifyAdmins(
    deps,
    {
      kind: "admin.user_created",
      title: `New account: ${user.displayName}`,
      body: `@${user.username} (${user.role === "admin" ? "administrator" : "member"}), ${how}.`,
      link: `/admin/users/${user.id}`,
    },
    user.id,
  );
}

const FAILURE_ALERT_EVERY_MS = 3_600_000;

/**
 * Tell administrators a delivery was given up on, at most once an hour per target so a dead receiver does not
 * flood them. Failures of these alerts themselves are not alerted on (that could loop).
 */
export async function alertAdminsOfFailedDelivery(
  deps: AlertDeps,
  item: DeliveryWithTarget,
  error: string,
): Promise<number> {
  if (item.delivery.event === "admin.delivery_failed") return 0;
  const key = `outbound:alerted:${item.target.id}`;
  if (await deps.coordination.cache.get(key)) return 0;
  await deps.coordination.cache.set(key, 1, FAILURE_ALERT_EVERY_MS);
  const owner = await findUserById(deps.database, item.target.userId);
  return notifyAdmins(deps, {
    kind: "admin.delivery_failed",
    title: `A notification to “${item.target.name}” could not be delivered`,
    body: `${owner ? `@${owner.username}'s` : "A"} ${item.target.kind} target gave up on “${item.delivery.event}” after ${item.delivery.attempts} attempt${item.delivery.attempts === 1 ? "" : "s"}: ${error}`,
    link: "/admin/notifications",
  });
}
