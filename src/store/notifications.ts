import { and, count, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { preparedQuery } from "../db/prepared";
import { keptLookup, writing } from "./kept";
import { dbErrorMessage, type Database, type Tables } from "../db/database";

export type Notification = Tables["notifications"]["$inferSelect"];

/** Insert a notification. */
export async function insertNotification(database: Database, n: Notification): Promise<void> {
  const { db, tables } = database;
  try {
    await writing(database, "notifications", () => db.insert(tables.notifications).values(n));
  } catch (err) {
    throw new Error(`store: unable to insert notification: ${dbErrorMessage(err)}`, { cause: err });
  }
}

const notificationPage = preparedQuery<Notification>("notification_page", (db, t) =>
  db
    .select()
    .from(t.notifications)
    .where(eq(t.notifications.userId, sql.placeholder("userId")))
    .orderBy(desc(t.notifications.createdAt), desc(t.notifications.id))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset")),
);

const notificationCount = preparedQuery<{ n: number }>("notification_count", (db, t) =>
  db
    .select({ n: count() })
    .from(t.notifications)
    .where(eq(t.notifications.userId, sql.placeholder("userId"))),
);

/** List a user's notifications, newest first (the notification center: prepared statements). */
export async function listNotifications(
  database: Database,
  userId: string,
  opts: { limit?: number; offset?: number } = {},
): Promise<{ items: Notification[]; total: number }> {
  const items = await notificationPage(database, { userId, limit: opts.limit ?? 20, offset: opts.offset ?? 0 });
  const [c] = await notificationCount(database, { userId });
  return { items, total: Number(c?.n ?? 0) };
}

/**
 * List a user's notifications newer than the one with `afterId`, oldest first (to catch up a reconnecting stream).
 * Ids sort in creation order, so notifications made in the same millisecond are told apart.
 */
export async function listNotificationsAfter(
  database: Database,
  userId: string,
  afterId: string,
  limit = 20,
): Promise<Notification[]> {
  const { db, tables } = database;
  const rows = await db
    .select()
    .from(tables.notifications)
    .where(and(eq(tables.notifications.userId, userId), gt(tables.notifications.id, afterId)))
    .orderBy(desc(tables.notifications.id))
    .limit(limit);
  return rows.reverse();
}

/** Return the id of a user's newest notification; undefined when they have none. */
export async function findLatestNotificationId(database: Database, userId: string): Promise<string | undefined> {
  const { db, tables } = database;
  const [row] = await db
    .select({ id: tables.notifications.id })
    .from(tables.notifications)
    .where(eq(tables.notifications.userId, userId))
    .orderBy(desc(tables.notifications.id))
    .limit(1);
  return row?.id;
}

/** The most unread notifications counted: the bell shows "99+" past 99, so counting further changes nothing. */
export const UNREAD_COUNT_CAP = 100;

// The LIMIT is written into the statement, not bound: a bound LIMIT made SQLite's lookups twice as slow
// (docs/performance.md).
const unreadCount = preparedQuery<{ n: number }>("unread_notifications", (db, t) =>
  db
    .select({ n: count() })
    .from(
      sql`(select 1 from ${t.notifications} where ${and(eq(t.notifications.userId, sql.placeholder("userId")), isNull(t.notifications.readAt))} limit ${sql.raw(String(UNREAD_COUNT_CAP))}) as unread`,
    ),
);

/**
 * Count a user's unread notifications, up to UNREAD_COUNT_CAP (every page a signed-in user loads: a prepared
 * statement that reads at most that many index entries however many are unread).
 */
export const countUnreadNotifications: (database: Database, userId: string) => Promise<number> = keptLookup(
  ["notifications"],
  async (database, userId) => Number((await unreadCount(database, { userId }))[0]?.n ?? 0),
);

/** Mark one of a user's notifications read; false when it is not theirs or absent. */
export async function markNotificationRead(database: Database, id: string, userId: string, at: Date): Promise<boolean> {
  const { db, tables } = database;
  const rows = await writing(database, "notifications", () =>
    db
      .update(tables.notifications)
      .set({ readAt: at })
      .where(and(eq(tables.notifications.id, id), eq(tables.notifications.userId, userId)))
      .returning({ id: tables.notifications.id }),
  );
  return rows.length > 0;
}

/** Mark all of a user's notifications read; returns how many changed. */
export async function markAllNotificationsRead(database: Database, userId: string, at: Date): Promise<number> {
  const { db, tables } = database;
  const rows = await writing(database, "notifications", () =>
    db
      .update(tables.notifications)
      .set({ readAt: at })
      .where(and(eq(tables.notifications.userId, userId), isNull(tables.notifications.readAt)))
      .returning({ id: tables.notifications.id }),
  );
  return rows.length;
}

/** Delete one of a user's notifications; false when it is not theirs or absent. */
export async function deleteNotification(database: Database, id: string, userId: string): Promise<boolean> {
  const { db, tables } = database;
  const rows = await writing(database, "notifications", () =>
    db
      .delete(tables.notifications)
      .where(and(eq(tables.notifications.id, id), eq(tables.notifications.userId, userId)))
      .returning({ id: tables.notifications.id }),
  );
  return rows.length > 0;
}
