import type { AppDeps } from "../app/deps";
import { audit, type Actor } from "./audit";
import { countUnreadNotifications, insertNotification, type Notification } from "../store/notifications";
import { findMutedNotifications, listActiveUserIds, updateUser, type User } from "../store/users";
import { switchableEvents } from "./notification-events";
import { publishEvent, topics } from "./events";
import { queueOutboundDeliveries } from "./outbound-notifications";

/** What a notification says; kind names the event (e.g. "request.available", "test"). */
export interface NotificationInput {
  kind: string;
  title: string;
  body: string;
  link?: string | null;
}

// Time-ordered ids: notifications created in the same millisecond still sort in creation order.
let lastMs = 0;
let seq = 0;
function newId(now: number): string {
  seq = now === lastMs ? seq + 1 : 0;
  lastMs = now;
  return `${now.toString(36).padStart(9, "0")}${seq.toString(36).padStart(3, "0")}${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Store a notification for a user, push it to their open pages and queue it for their outbound targets; nothing at
 * all (no entry, no toast, no delivery) when the user switched that kind off. Returns the notification, if made.
 */
export async function notify(
  deps: Pick<AppDeps, "database" | "coordination" | "log"> & Partial<Pick<AppDeps, "jobs">>,
  userId: string,
  input: NotificationInput,
): Promise<Notification | undefined> {
  if ((await findMutedNotifications(deps.database, userId)).includes(input.kind)) return undefined;
  const now = Date.now();
  const n: Notification = {
    id: newId(now),
    userId,
    kind: input.kind,
    title: input.title.slice(0, 200),
    body: input.body.slice(0, 2000),
    link: input.link ?? null,
    createdAt: new Date(now),
    readAt: null,
  };
  await insertNotification(deps.database, n);
  const unread = await countUnreadNotifications(deps.database, userId);
  await publishEvent(deps, topics.user(userId), {
    type: "notification",
    unread,
    notification: { id: n.id, kind: n.kind, title: n.title, body: n.body, link: n.link, createdAt: now },
  });
  // Never throws: a broken outbound target must not fail (or block) the notification.
  await queueOutboundDeliveries(deps, n);
  return n;
}

/** Tell a user's open pages their unread count changed (after marking read or deleting). */
export async function publishUnread(
  deps: Pick<AppDeps, "database" | "coordination" | "log">,
  userId: string,
): Promise<number> {
  const unread = await countUnreadNotifications(deps.database, userId);
  await publishEvent(deps, topics.user(userId), { type: "unread", unread });
  return unread;
}

/** Send a notification to every active user. Returns how many received it. */
export async function announce(
  deps: Pick<AppDeps, "database" | "coordination" | "log">,
  actor: Actor,
  title: string,
  body: string,
): Promise<number> {
  const users = await listActiveUserIds(deps.database);
  for (const id of users) await notify(deps, id, { kind: "announcement", title, body });
  await audit(deps, actor, "announcement.send", undefined, { title, recipients: users.length });
  return users.length;
}

/** Save which notification kinds a user wants ("Notify me about"): every switchable kind not in `on` is off. */
export async function saveNotificationSwitches(
  deps: Pick<AppDeps, "database" | "log">,
  actor: Actor,
  user: User,
  on: string[],
): Promise<string[]> {
  const muted = switchableEvents(user.role)
    .map((e) => e.id as string)
    .filter((id) => !on.includes(id));
  await updateUser(deps.database, user.id, { mutedNotifications: muted.length ? muted : null });
  await audit(deps, actor, "notifications.switches", { type: "user", id: user.id }, { off: muted });
  return muted;
}
