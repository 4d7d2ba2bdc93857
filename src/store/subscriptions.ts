import { and, asc, desc, eq, inArray, lte, sql } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import { inTransaction, type Statement, type Tx } from "../db/transaction";

export type Subscription = Tables["downloadSubscriptions"]["$inferSelect"];
export type NewSubscription = Tables["downloadSubscriptions"]["$inferInsert"];

const SEEN_CHUNK = 200;

/**
 * Insert a subscription with the videos it starts out having seen, in one transaction (a subscription that lost
 * its seen list would queue the whole channel); false when the user has this link already.
 */
export async function insertSubscription(
  database: Database,
  subscription: NewSubscription,
  seen: string[],
): Promise<boolean> {
  const { tables } = database;
  try {
    return await inTransaction(database, function* (tx) {
      const inserted = (yield tx
        .insert(tables.downloadSubscriptions)
        .values(subscription)
        .onConflictDoNothing()
        .returning({ id: tables.downloadSubscriptions.id })) as unknown[];
      if (inserted.length === 0) return false;
      yield* seenStatements(tx, database, subscription.id, seen, subscription.createdAt ?? new Date());
      return true;
    });
  } catch (err) {
    throw new Error(`store: unable to insert subscription: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** The statements that record videos as seen by a subscription, for a transaction. */
export function* seenStatements(
  tx: Tx,
  database: Database,
  subscriptionId: string,
  remoteIds: string[],
  at: Date,
): Generator<Statement, void, unknown> {
  const unique = [...new Set(remoteIds)];
  for (let i = 0; i < unique.length; i += SEEN_CHUNK)
    yield tx
      .insert(database.tables.subscriptionSeen)
      .values(unique.slice(i, i + SEEN_CHUNK).map((remoteId) => ({ subscriptionId, remoteId, seenAt: at })))
      .onConflictDoNothing();
}

/** Record videos as seen by a subscription (ones it saw before are left as they are). */
export async function markSeen(
  database: Database,
  subscriptionId: string,
  remoteIds: string[],
  at: Date,
): Promise<void> {
  try {
    await inTransaction(database, (tx) => seenStatements(tx, database, subscriptionId, remoteIds, at));
  } catch (err) {
    throw new Error(`store: unable to record seen videos: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Which of these videos a subscription has seen. */
export async function seenRemoteIds(
  database: Database,
  subscriptionId: string,
  remoteIds: string[],
): Promise<Set<string>> {
  const { db, tables } = database;
  const out = new Set<string>();
  for (let i = 0; i < remoteIds.length; i += SEEN_CHUNK) {
    const rows = await db
      .select({ remoteId: tables.subscriptionSeen.remoteId })
      .from(tables.subscriptionSeen)
      .where(
        and(
          eq(tables.subscriptionSeen.subscriptionId, subscriptionId),
          inArray(tables.subscriptionSeen.remoteId, remoteIds.slice(i, i + SEEN_CHUNK)),
        ),
      );
    for (const r of rows) out.add(r.remoteId);
  }
  return out;
}

/** A user's subscriptions, newest first. */
export async function listSubscriptions(database: Database, userId: string): Promise<Subscription[]> {
  const { db, tables } = database;
  return db
    .select()
    .from(tables.downloadSubscriptions)
    .where(eq(tables.downloadSubscriptions.userId, userId))
    .orderBy(desc(tables.downloadSubscriptions.createdAt))
    .limit(500);
}

/** Find a user's subscription by id (another user's is not found). */
export async function findSubscriptionForUser(
  database: Database,
  id: string,
  userId: string,
): Promise<Subscription | undefined> {
  const { db, tables } = database;
  const [row] = await db
    .select()
    .from(tables.downloadSubscriptions)
    .where(and(eq(tables.downloadSubscriptions.id, id), eq(tables.downloadSubscriptions.userId, userId)))
    .limit(1);
  return row;
}

/** Active subscriptions whose check is due, the longest waiting first. */
export async function listDueSubscriptions(database: Database, now: Date, limit: number): Promise<Subscription[]> {
  const { db, tables } = database;
  return db
    .select()
    .from(tables.downloadSubscriptions)
    .where(and(eq(tables.downloadSubscriptions.status, "active"), lte(tables.downloadSubscriptions.checkDueAt, now)))
    .orderBy(asc(tables.downloadSubscriptions.checkDueAt))
    .limit(limit);
}

/** Change a subscription's state or record a check. */
export async function updateSubscription(
  database: Database,
  id: string,
  patch: Partial<
    Pick<Subscription, "status" | "checkDueAt" | "lastCheckedAt" | "lastError" | "title" | "channel" | "updatedAt">
  > & { addQueued?: number },
): Promise<void> {
  const { db, tables } = database;
  const { addQueued, ...rest } = patch;
  try {
    await db
      .update(tables.downloadSubscriptions)
      .set({
        ...rest,
        updatedAt: rest.updatedAt ?? new Date(),
        ...(addQueued ? { queuedCount: sql`${tables.downloadSubscriptions.queuedCount} + ${addQueued}` } : {}),
      })
      .where(eq(tables.downloadSubscriptions.id, id));
  } catch (err) {
    throw new Error(`store: unable to update subscription: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Delete a user's subscription (and what it saw); false when there was none. */
export async function deleteSubscription(database: Database, id: string, userId: string): Promise<boolean> {
  const { db, tables } = database;
  const rows = await db
    .delete(tables.downloadSubscriptions)
    .where(and(eq(tables.downloadSubscriptions.id, id), eq(tables.downloadSubscriptions.userId, userId)))
    .returning({ id: tables.downloadSubscriptions.id });
  return rows.length > 0;
}
