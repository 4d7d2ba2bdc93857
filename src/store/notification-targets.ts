import { and, asc, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import { type ClaimSpec, type ClaimWindow, claimRows } from "./claims";

export type NotificationTarget = Tables["notificationTargets"]["$inferSelect"];
export type NotificationDelivery = Tables["notificationDeliveries"]["$inferSelect"];
export type NewNotificationDelivery = Tables["notificationDeliveries"]["$inferInsert"];
export type TargetKind = NotificationTarget["kind"];

/** A delivery with the target it goes to, as the worker needs it. */
export interface DeliveryWithTarget {
  delivery: NotificationDelivery;
  target: NotificationTarget;
}

/** A delivery as the admin page lists it. */
export interface DeliveryOverview {
  delivery: NotificationDelivery;
  target: Pick<NotificationTarget, "id" | "kind" | "name" | "enabled">;
  user: { id: string; username: string; displayName: string };
}

/** Insert a notification target. */
export async function insertNotificationTarget(database: Database, target: NotificationTarget): Promise<void> {
  const { db, tables } = database;
  try {
    await db.insert(tables.notificationTargets).values(target);
  } catch (err) {
    throw new Error(`store: unable to insert notification target: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Find one of a user's targets; undefined when absent or someone else's. */
export async function findNotificationTargetForUser(
  database: Database,
  id: string,
  userId: string,
): Promise<NotificationTarget | undefined> {
  const { db, tables } = database;
  const t = tables.notificationTargets;
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.id, id), eq(t.userId, userId)))
    .limit(1);
  return row;
}

/** List a user's targets, oldest first. */
export async function listNotificationTargetsByUser(database: Database, userId: string): Promise<NotificationTarget[]> {
  const { db, tables } = database;
  const t = tables.notificationTargets;
  return db.select().from(t).where(eq(t.userId, userId)).orderBy(asc(t.createdAt), asc(t.id));
}

/** List a user's enabled targets that subscribe to an event. */
export async function listTargetsForEvent(
  database: Database,
  userId: string,
  event: string,
): Promise<NotificationTarget[]> {
  const { db, tables } = database;
  const t = tables.notificationTargets;
  // A user has a handful of targets: filtering the JSON list here keeps the query the same on both dialects.
  const rows = await db
    .select()
    .from(t)
    .where(and(eq(t.userId, userId), eq(t.enabled, true)));
  return rows.filter((r) => r.events.includes(event));
}

/** Change a user's target (name, events, enabled); false when absent or someone else's. */
export async function updateNotificationTarget(
  database: Database,
  id: string,
  userId: string,
  patch: Partial<Pick<NotificationTarget, "name" | "events" | "enabled" | "configEnc">> & { updatedAt: Date },
): Promise<boolean> {
  const { db, tables } = database;
  const t = tables.notificationTargets;
  const rows = await db
    .update(t)
    .set(patch)
    .where(and(eq(t.id, id), eq(t.userId, userId)))
    .returning({ id: t.id });
  return rows.length > 0;
}

/** Delete a user's target and its deliveries; false when absent or someone else's. */
export async function deleteNotificationTarget(database: Database, id: string, userId: string): Promise<boolean> {
  const { db, tables } = database;
  const t = tables.notificationTargets;
  const rows = await db
    .delete(t)
    .where(and(eq(t.id, id), eq(t.userId, userId)))
    .returning({ id: t.id });
  return rows.length > 0;
}

/** Insert deliveries (one per target) in one statement. */
export async function insertNotificationDeliveries(database: Database, rows: NewNotificationDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  const { db, tables } = database;
  try {
    await db.insert(tables.notificationDeliveries).values(rows);
  } catch (err) {
    throw new Error(`store: unable to insert notification deliveries: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Find a delivery by id. */
export async function findDeliveryById(database: Database, id: string): Promise<NotificationDelivery | undefined> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const [row] = await db.select().from(d).where(eq(d.id, id)).limit(1);
  return row;
}

/** Return each target's most recent delivery (targets without one are absent from the map). */
export async function latestDeliveryByTarget(
  database: Database,
  targetIds: string[],
): Promise<Map<string, NotificationDelivery>> {
  const out = new Map<string, NotificationDelivery>();
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  for (const id of targetIds) {
    const [row] = await db.select().from(d).where(eq(d.targetId, id)).orderBy(desc(d.createdAt), desc(d.id)).limit(1);
    if (row) out.set(id, row);
  }
  return out;
}

export type ClaimOptions = ClaimWindow;

/** The deliveries as claimed rows (store/claims.ts): pending, or sending with a lapsed lease; oldest due first. */
const DELIVERY_CLAIMS: ClaimSpec = {
  label: "deliveries",
  table: "notification_deliveries",
  from: ["pending", "sending"],
  claimed: "sending",
  dueColumn: "next_attempt_at",
  order: "c.next_attempt_at",
};

/**
 * Claim up to limit due deliveries (pending, or sending with an expired lease) for this worker: each comes back
 * with status "sending", its attempt counted and its lease set. No row is handed to two concurrent claimers.
 */
export async function claimDueDeliveries(database: Database, opts: ClaimOptions): Promise<DeliveryWithTarget[]> {
  return listDeliveriesWithTargets(database, await claimRows(database, DELIVERY_CLAIMS, opts));
}

/** Claim due rows on PostgreSQL: rows another transaction is claiming are skipped, not waited for. */
export async function claimDueDeliveriesSkipLocked(database: Database, opts: ClaimOptions): Promise<string[]> {
  if (database.dialect !== "postgres") throw new Error("store: claimDueDeliveriesSkipLocked needs PostgreSQL");
  return claimRows(database, DELIVERY_CLAIMS, opts);
}

/** Claim due rows on SQLite, in one write transaction. */
export async function claimDueDeliveriesInOneWrite(database: Database, opts: ClaimOptions): Promise<string[]> {
  if (database.dialect !== "sqlite") throw new Error("store: claimDueDeliveriesInOneWrite needs SQLite");
  return claimRows(database, DELIVERY_CLAIMS, opts);
}

/** Load deliveries with their targets, in the order of ids. */
export async function listDeliveriesWithTargets(database: Database, ids: string[]): Promise<DeliveryWithTarget[]> {
  if (ids.length === 0) return [];
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const t = tables.notificationTargets;
  const rows = await db
    .select({ delivery: d, target: t })
    .from(d)
    .innerJoin(t, eq(d.targetId, t.id))
    .where(inArray(d.id, ids));
  const byId = new Map(rows.map((r) => [r.delivery.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Record the outcome of a claimed attempt; false when the claim was lost (the row changed since). */
export async function finishDeliveryAttempt(
  database: Database,
  id: string,
  attempts: number,
  outcome:
    | { status: "sent"; at: Date }
    | { status: "pending"; nextAttemptAt: Date; error: string }
    | { status: "failed"; at: Date; error: string },
): Promise<boolean> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const patch =
    outcome.status === "sent"
      ? { status: "sent" as const, sentAt: outcome.at, lastError: null, nextAttemptAt: outcome.at }
      : outcome.status === "pending"
        ? { status: "pending" as const, nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error }
        : { status: "failed" as const, nextAttemptAt: outcome.at, lastError: outcome.error };
  // The attempt count fences the update: a row re-claimed after its lease ran out is no longer this worker's.
  const rows = await db
    .update(d)
    .set(patch)
    .where(and(eq(d.id, id), eq(d.status, "sending"), eq(d.attempts, attempts)))
    .returning({ id: d.id });
  return rows.length > 0;
}

/** Make a failed or pending delivery due now; false when absent or already sent or sending. */
export async function retryDeliveryNow(database: Database, id: string, now: Date): Promise<boolean> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const rows = await db
    .update(d)
    .set({ status: "pending", nextAttemptAt: now })
    .where(and(eq(d.id, id), inArray(d.status, ["failed", "pending"])))
    .returning({ id: d.id });
  return rows.length > 0;
}

/** List recent deliveries of every user: failed first, then waiting, then sent; newest first within each. */
export async function listRecentDeliveries(database: Database, limit = 100): Promise<DeliveryOverview[]> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const t = tables.notificationTargets;
  const u = tables.users;
  return db
    .select({
      delivery: d,
      target: { id: t.id, kind: t.kind, name: t.name, enabled: t.enabled },
      user: { id: u.id, username: u.username, displayName: u.displayName },
    })
    .from(d)
    .innerJoin(t, eq(d.targetId, t.id))
    .innerJoin(u, eq(t.userId, u.id))
    .orderBy(
      sql`case ${d.status} when 'failed' then 0 when 'pending' then 1 when 'sending' then 2 else 3 end`,
      desc(d.createdAt),
      desc(d.id),
    )
    .limit(limit);
}

/** Count deliveries per status. */
export async function countDeliveriesByStatus(
  database: Database,
): Promise<Record<NotificationDelivery["status"], number>> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const rows = await db.select({ status: d.status, n: sql<number>`count(*)` }).from(d).groupBy(d.status);
  const out = { pending: 0, sending: 0, sent: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** Delete sent deliveries whose last attempt was before a moment; returns how many went. */
export async function deleteSentDeliveriesBefore(database: Database, before: Date): Promise<number> {
  const { db, tables } = database;
  const d = tables.notificationDeliveries;
  const rows = await db
    .delete(d)
    .where(and(eq(d.status, "sent"), lt(d.nextAttemptAt, before)))
    .returning({ id: d.id });
  return rows.length;
}
