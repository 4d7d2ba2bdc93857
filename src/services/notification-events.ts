/**
 * Every event a notification can be about: the kinds notify() produces, with the words the pages use.
 * Add new kinds here (and only here) so targets can subscribe to them.
 */
export const NOTIFICATION_EVENTS = [
  { id: "request.available", label: "A request of mine is ready to watch", adminOnly: false },
  { id: "request.approved", label: "A request of mine was approved", adminOnly: false },
  { id: "request.declined", label: "A request of mine was declined", adminOnly: false },
  { id: "request.failed", label: "A request of mine failed in Seerr", adminOnly: false },
  { id: "request.removed", label: "A request of mine was removed in Seerr", adminOnly: false },
  { id: "download.finished", label: "A download of mine finished", adminOnly: false },
  { id: "download.failed", label: "A download of mine failed", adminOnly: false },
  { id: "download.approved", label: "A download of mine was approved", adminOnly: false },
  { id: "download.declined", label: "A download of mine was declined", adminOnly: false },
  { id: "announcement", label: "Announcements from the administrators", adminOnly: false },
  { id: "test", label: "Test notifications", adminOnly: false },
  { id: "admin.user_created", label: "A new account was created", adminOnly: true },
  { id: "admin.request_pending", label: "A new request waits for approval", adminOnly: true },
  { id: "admin.download_pending", label: "A download waits for approval", adminOnly: true },
  { id: "admin.delivery_failed", label: "A notification could not be delivered after every retry", adminOnly: true },
] as const;

export type NotificationEventId = (typeof NOTIFICATION_EVENTS)[number]["id"];
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** List the events a user of this role may send to their targets. */
export function eventsForRole(role: "admin" | "user"): NotificationEvent[] {
  return NOTIFICATION_EVENTS.filter((e) => role === "admin" || !e.adminOnly);
}

/** List the events a user of this role can switch off for themself ("Notify me about"); tests always arrive. */
export function switchableEvents(role: "admin" | "user"): NotificationEvent[] {
  return eventsForRole(role).filter((e) => e.id !== "test");
}

/** Return an event's label, or the raw id for kinds this version does not know. */
export function eventLabel(id: string): string {
  return NOTIFICATION_EVENTS.find((e) => e.id === id)?.label ?? id;
}

/** True for events only administrators may subscribe to. */
export function isAdminOnlyEvent(id: string): boolean {
  return NOTIFICATION_EVENTS.some((e) => e.id === id && e.adminOnly);
}
