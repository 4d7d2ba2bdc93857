import {
  and,
  asc,
  count,
  desc,
  eq,
  gte,
  inArray,
  isNotNull,
  lt,
  lte,
  min,
  ne,
  notInArray,
  sql,
  sum,
} from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import { preparedQuery } from "../db/prepared";
import { inTransaction, type Statement, type Tx } from "../db/transaction";
import { type ClaimSpec, type ClaimWindow, claimRows, extendLease } from "./claims";

export type Download = Tables["downloads"]["$inferSelect"];
export type NewDownload = Tables["downloads"]["$inferInsert"];
export type DownloadItem = Tables["downloadItems"]["$inferSelect"];
export type NewDownloadItem = Tables["downloadItems"]["$inferInsert"];
export type DownloadStatus = Download["status"];

/** Statuses an item is in while a worker holds it. */
export const ACTIVE_STATUSES = ["downloading", "processing"] as const;
/** Statuses that end an item's life (until a retry). */
export const FINAL_STATUSES = ["completed", "failed", "cancelled"] as const;

/** A claimed item with its download, as a worker needs it. */
export interface ClaimedItem {
  item: DownloadItem;
  download: Download;
}

/** A download with its items counted per status, as the pages list it. */
export interface DownloadSummary {
  download: Download;
  counts: Record<DownloadStatus, number>;
  bytes: number;
  user: { id: string; username: string; displayName: string };
}

const INSERT_CHUNK = 200;

/**
 * Insert a download and its items in one transaction: a crash or a failure leaves both or neither. `also` adds
 * statements of the same transaction (a subscription marks the video seen in it).
 */
export async function insertDownload(
  database: Database,
  download: NewDownload,
  items: NewDownloadItem[],
  also?: (tx: Tx) => Iterable<Statement>,
): Promise<void> {
  const { tables } = database;
  try {
    await inTransaction(database, function* (tx) {
      yield tx.insert(tables.downloads).values(download);
      for (let i = 0; i < items.length; i += INSERT_CHUNK)
        yield tx.insert(tables.downloadItems).values(items.slice(i, i + INSERT_CHUNK));
      if (also) yield* also(tx);
    });
  } catch (err) {
    throw new Error(`store: unable to insert download: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Find a download by id. */
export async function findDownloadById(database: Database, id: string): Promise<Download | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.downloads).where(eq(tables.downloads.id, id)).limit(1);
  return row;
}

/** Find one of a user's downloads; undefined when absent or someone else's. */
export async function findDownloadForUser(
  database: Database,
  id: string,
  userId: string,
): Promise<Download | undefined> {
  const { db, tables } = database;
  const d = tables.downloads;
  const [row] = await db
    .select()
    .from(d)
    .where(and(eq(d.id, id), eq(d.userId, userId)))
    .limit(1);
  return row;
}

/** List a download's items in playlist order. */
export async function listDownloadItems(database: Database, downloadId: string): Promise<DownloadItem[]> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  return db.select().from(i).where(eq(i.downloadId, downloadId)).orderBy(asc(i.position));
}

/** Find an item by id. */
export async function findDownloadItemById(database: Database, id: string): Promise<DownloadItem | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.downloadItems).where(eq(tables.downloadItems.id, id)).limit(1);
  return row;
}

function emptyCounts(): Record<DownloadStatus, number> {
  return { queued: 0, awaiting_approval: 0, downloading: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
}

async function summarise(database: Database, rows: { download: Download; user: DownloadSummary["user"] }[]) {
  if (rows.length === 0) return [];
  const { db, tables } = database;
  const i = tables.downloadItems;
  const ids = rows.map((r) => r.download.id);
  const grouped = await db
    .select({ downloadId: i.downloadId, status: i.status, n: count(), bytes: sum(i.bytes) })
    .from(i)
    .where(inArray(i.downloadId, ids))
    .groupBy(i.downloadId, i.status);
  const byId = new Map<string, { counts: Record<DownloadStatus, number>; bytes: number }>();
  for (const g of grouped) {
    let entry = byId.get(g.downloadId);
    if (!entry) byId.set(g.downloadId, (entry = { counts: emptyCounts(), bytes: 0 }));
    entry.counts[g.status] = Number(g.n);
    if (g.status === "completed") entry.bytes += Number(g.bytes ?? 0);
  }
  return rows.map((r) => ({ ...r, ...(byId.get(r.download.id) ?? { counts: emptyCounts(), bytes: 0 }) }));
}

// The pages' statements, built and prepared once per database (their SQL building was a tenth of /admin/downloads).
const newestFirst = (t: Tables) => [desc(t.downloads.createdAt), desc(t.downloads.id)];
const pageOfUser = preparedQuery<Download>("downloads_page_of_user", (db, t) =>
  db
    .select()
    .from(t.downloads)
    .where(eq(t.downloads.userId, sql.placeholder("userId")))
    .orderBy(...newestFirst(t))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset")),
);
const pageInStatus = preparedQuery<Download>("downloads_page_in_status", (db, t) =>
  db
    .select()
    .from(t.downloads)
    .where(eq(t.downloads.status, sql.placeholder("status")))
    .orderBy(...newestFirst(t))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset")),
);
const pageOfAll = preparedQuery<Download>("downloads_page_of_all", (db, t) =>
  db
    .select()
    .from(t.downloads)
    .orderBy(...newestFirst(t))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset")),
);
const countOfUser = preparedQuery<{ n: number }>("downloads_count_of_user", (db, t) =>
  db
    .select({ n: count() })
    .from(t.downloads)
    .where(eq(t.downloads.userId, sql.placeholder("userId"))),
);
const countOfAll = preparedQuery<{ n: number }>("downloads_count_of_all", (db, t) =>
  db.select({ n: count() }).from(t.downloads),
);

/** One page of downloads, newest first: the pages' own filters from their prepared statements, others built here. */
async function pageOfDownloads(
  database: Database,
  opts: { userId?: string; limit: number; offset?: number; statuses?: DownloadStatus[] },
): Promise<Download[]> {
  const window = { limit: opts.limit, offset: opts.offset ?? 0 };
  const { userId, statuses } = opts;
  if (userId && !statuses) return pageOfUser(database, { userId, ...window });
  if (!userId && statuses?.length === 1) return pageInStatus(database, { status: statuses[0], ...window });
  if (!userId && !statuses) return pageOfAll(database, window);
  const d = database.tables.downloads;
  return database.db
    .select()
    .from(d)
    .where(and(userId ? eq(d.userId, userId) : undefined, statuses ? inArray(d.status, statuses) : undefined))
    .orderBy(...newestFirst(database.tables))
    .limit(window.limit)
    .offset(window.offset);
}

/** List downloads newest first with their items counted: one user's, or everyone's when userId is undefined. */
export async function listDownloadSummaries(
  database: Database,
  opts: { userId?: string; limit: number; offset?: number; statuses?: DownloadStatus[] },
): Promise<DownloadSummary[]> {
  const { db, tables } = database;
  const u = tables.users;
  // The page of downloads first, then their owners: joined in one query, SQLite's planner may start from the users
  // and sort every download to find the newest few.
  const page = await pageOfDownloads(database, opts);
  if (page.length === 0) return [];
  const owners = await db
    .select({ id: u.id, username: u.username, displayName: u.displayName })
    .from(u)
    .where(inArray(u.id, [...new Set(page.map((r) => r.userId))]));
  const byId = new Map(owners.map((o) => [o.id, o]));
  const rows = page.flatMap((download) => {
    const user = byId.get(download.userId);
    return user ? [{ download, user }] : [];
  });
  return summarise(database, rows);
}

/** Find one download with its items counted; undefined when absent. */
export async function findDownloadSummary(database: Database, id: string): Promise<DownloadSummary | undefined> {
  const { db, tables } = database;
  const d = tables.downloads;
  const u = tables.users;
  const rows = await db
    .select({ download: d, user: { id: u.id, username: u.username, displayName: u.displayName } })
    .from(d)
    .innerJoin(u, eq(d.userId, u.id))
    .where(eq(d.id, id))
    .limit(1);
  const [summary] = await summarise(database, rows);
  return summary;
}

/**
 * Download items as claimed rows: queued and due, or held with a lapsed lease. Fair across users: first the users
 * with the fewest items running now, then those whose last claim is oldest (never claimed first), then the oldest
 * item. One user's long playlist therefore waits its turn behind another user's single video.
 */
const ITEM_CLAIMS: ClaimSpec = {
  label: "download items",
  table: "download_items",
  from: ["queued", ...ACTIVE_STATUSES],
  claimed: "downloading",
  dueColumn: "next_attempt_at",
  // worker_host and worker_pgid stay: a worker taking over reads them to end a dead worker's orphaned yt-dlp.
  set: "claimed_at = {now}",
  order: `(select count(*) from download_items r
             where r.user_id = c.user_id and r.status in ('downloading', 'processing') and r.next_attempt_at > {now}),
          (select max(r.claimed_at) from download_items r where r.user_id = c.user_id) is not null,
          (select max(r.claimed_at) from download_items r where r.user_id = c.user_id),
          c.created_at, c.position, c.id`,
};

/** Claim up to limit due items, fairly across users; each comes back downloading with its attempt counted. */
export async function claimDownloadItems(database: Database, w: ClaimWindow): Promise<ClaimedItem[]> {
  const ids = await claimRows(database, ITEM_CLAIMS, w);
  if (ids.length === 0) return [];
  const { db, tables } = database;
  const i = tables.downloadItems;
  const d = tables.downloads;
  return db.select({ item: i, download: d }).from(i).innerJoin(d, eq(i.downloadId, d.id)).where(inArray(i.id, ids));
}

/** Extend a claimed item's lease; false when the claim was lost (taken over, cancelled, removed). */
export function extendItemLease(database: Database, item: Pick<DownloadItem, "id" | "attempts">, until: Date) {
  return extendLease(database, ITEM_CLAIMS, {
    id: item.id,
    attempts: item.attempts,
    statuses: ACTIVE_STATUSES,
    leaseUntil: until,
  });
}

function claimHeld(i: Tables["downloadItems"], item: Pick<DownloadItem, "id" | "attempts">) {
  return and(eq(i.id, item.id), eq(i.attempts, item.attempts), inArray(i.status, [...ACTIVE_STATUSES]));
}

/** Change a claimed item (fenced by its attempt count); false when the claim was lost. */
export async function updateClaimedItem(
  database: Database,
  item: Pick<DownloadItem, "id" | "attempts">,
  patch: Partial<Pick<DownloadItem, "status" | "workerHost" | "workerPgid" | "title" | "remoteId" | "filePath">>,
): Promise<boolean> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const rows = await db.update(i).set(patch).where(claimHeld(i, item)).returning({ id: i.id });
  return rows.length > 0;
}

/** How a claimed attempt ended. */
export type ItemOutcome =
  | { status: "completed"; at: Date; filePath: string; bytes: number }
  | { status: "queued"; nextAttemptAt: Date; error: string | null }
  | { status: "failed"; at: Date; error: string }
  | { status: "cancelled"; at: Date; error: string | null };

/** Record the outcome of a claimed attempt (fenced); false when the claim was lost. */
export async function finishClaimedItem(
  database: Database,
  item: Pick<DownloadItem, "id" | "attempts">,
  outcome: ItemOutcome,
): Promise<boolean> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const patch: Partial<DownloadItem> =
    outcome.status === "completed"
      ? {
          status: "completed",
          finishedAt: outcome.at,
          nextAttemptAt: outcome.at,
          filePath: outcome.filePath,
          bytes: outcome.bytes,
          error: null,
        }
      : outcome.status === "queued"
        ? { status: "queued", nextAttemptAt: outcome.nextAttemptAt, error: outcome.error }
        : { status: outcome.status, finishedAt: outcome.at, nextAttemptAt: outcome.at, error: outcome.error };
  const rows = await db
    .update(i)
    .set({ ...patch, workerPgid: null })
    .where(claimHeld(i, item))
    .returning({ id: i.id });
  return rows.length > 0;
}

/** Move a download's items from some statuses to another; returns the items that moved. */
export async function moveDownloadItems(
  database: Database,
  downloadId: string,
  from: DownloadStatus[],
  to: { status: DownloadStatus; at: Date; error?: string | null },
): Promise<DownloadItem[]> {
  return moveItems(database.db, database, downloadId, from, to);
}

function moveItems(
  db: Pick<Tx, "update">,
  database: Database,
  downloadId: string,
  from: DownloadStatus[],
  to: { status: DownloadStatus; at: Date; error?: string | null },
) {
  const i = database.tables.downloadItems;
  const final = (FINAL_STATUSES as readonly string[]).includes(to.status);
  return db
    .update(i)
    .set({
      status: to.status,
      nextAttemptAt: to.at,
      ...(final ? { finishedAt: to.at } : { finishedAt: null }),
      ...(to.error !== undefined ? { error: to.error } : {}),
    })
    .where(and(eq(i.downloadId, downloadId), inArray(i.status, from)))
    .returning();
}

/** Forget an item's file (deleted from disk). */
export async function clearItemFile(database: Database, itemId: string): Promise<void> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  await db.update(i).set({ filePath: null, bytes: null }).where(eq(i.id, itemId));
}

/**
 * Work out a download's status from its items and store it: running while any item runs, waiting while any
 * waits, otherwise completed, failed (when any failed) or cancelled. Returns the download as stored, and whether
 * this call is the one that made it final.
 */
export async function refreshDownloadStatus(
  database: Database,
  id: string,
  now: Date,
): Promise<{ download: Download; becameFinal: boolean } | undefined> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const d = tables.downloads;
  const grouped = await db
    .select({ status: i.status, n: count() })
    .from(i)
    .where(eq(i.downloadId, id))
    .groupBy(i.status);
  const c = emptyCounts();
  for (const g of grouped) c[g.status] = Number(g.n);
  const status: DownloadStatus =
    c.downloading > 0
      ? "downloading"
      : c.processing > 0
        ? "processing"
        : c.queued > 0
          ? "queued"
          : c.awaiting_approval > 0
            ? "awaiting_approval"
            : c.failed > 0
              ? "failed"
              : c.completed > 0
                ? "completed"
                : "cancelled";
  const final = status === "completed" || status === "failed" || status === "cancelled";
  let error: string | null = null;
  if (status === "failed") {
    const [firstFailure] = await db
      .select({ error: i.error })
      .from(i)
      .where(and(eq(i.downloadId, id), eq(i.status, "failed")))
      .orderBy(asc(i.position))
      .limit(1);
    error = firstFailure?.error ?? null;
  }
  const patch = { status, updatedAt: now, finishedAt: final ? now : null, error };
  if (!final) {
    const [row] = await db.update(d).set(patch).where(eq(d.id, id)).returning();
    return row && { download: row, becameFinal: false };
  }
  // Only the write that moves a download into a final status reports it, so two items finishing at once on two
  // workers notify once.
  const [moved] = await db
    .update(d)
    .set(patch)
    .where(and(eq(d.id, id), notInArray(d.status, [...FINAL_STATUSES])))
    .returning();
  if (moved) return { download: moved, becameFinal: true };
  const [row] = await db.update(d).set(patch).where(eq(d.id, id)).returning();
  return row && { download: row, becameFinal: false };
}

/** Record an admin's decision on a download that waits: its items move and the decider is noted, in one transaction. */
export async function decideDownload(
  database: Database,
  id: string,
  by: string,
  to: { status: "queued" | "cancelled"; at: Date; error?: string },
): Promise<DownloadItem[]> {
  const d = database.tables.downloads;
  return inTransaction(database, function* (tx) {
    const moved = (yield moveItems(tx, database, id, ["awaiting_approval"], to)) as DownloadItem[];
    if (moved.length > 0)
      yield tx.update(d).set({ decidedBy: by, decidedAt: to.at, updatedAt: to.at }).where(eq(d.id, id));
    return moved;
  });
}

/** Delete a finished download (and its items) of a user; false when absent, someone else's or still running. */
export async function deleteFinishedDownload(database: Database, id: string, userId: string): Promise<boolean> {
  const { db, tables } = database;
  const d = tables.downloads;
  const rows = await db
    .delete(d)
    .where(and(eq(d.id, id), eq(d.userId, userId), inArray(d.status, [...FINAL_STATUSES])))
    .returning({ id: d.id });
  return rows.length > 0;
}

/** Count downloads: one user's, or everyone's when userId is undefined (for the pages' pagers). */
export async function countDownloads(database: Database, opts: { userId?: string } = {}): Promise<number> {
  const [row] = opts.userId ? await countOfUser(database, { userId: opts.userId }) : await countOfAll(database, {});
  return Number(row?.n ?? 0);
}

/** Count a user's downloads created since a moment (for the hourly and daily quotas). */
export async function countDownloadsSince(database: Database, userId: string, since: Date): Promise<number> {
  const { db, tables } = database;
  const d = tables.downloads;
  const [row] = await db
    .select({ n: count() })
    .from(d)
    .where(and(eq(d.userId, userId), gte(d.createdAt, since), ne(d.status, "cancelled")));
  return Number(row?.n ?? 0);
}

/** Return when the oldest of a user's downloads created since a moment was made (when a quota frees up). */
export async function oldestDownloadSince(database: Database, userId: string, since: Date): Promise<Date | undefined> {
  const { db, tables } = database;
  const d = tables.downloads;
  const [row] = await db
    .select({ at: min(d.createdAt) })
    .from(d)
    .where(and(eq(d.userId, userId), gte(d.createdAt, since), ne(d.status, "cancelled")));
  const at = row?.at as unknown;
  if (at === null || at === undefined) return undefined;
  return at instanceof Date ? at : new Date(typeof at === "number" ? at : String(at));
}

/** Sum the bytes of a user's completed files that are still on disk (the storage cap counts these). */
export async function sumStoredBytes(database: Database, userId: string): Promise<number> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const [row] = await db
    .select({ n: sum(i.bytes) })
    .from(i)
    .where(and(eq(i.userId, userId), eq(i.status, "completed"), isNotNull(i.filePath)));
  return Number(row?.n ?? 0);
}

/** Sum stored bytes per user (the admin's view). */
export async function storedBytesByUser(database: Database): Promise<Map<string, number>> {
  const rows = await storedPerUser(database, {});
  return new Map(rows.map((r) => [r.userId, Number(r.n ?? 0)]));
}

const itemsPerStatus = preparedQuery<{ status: DownloadStatus; n: number }>("download_items_per_status", (db, t) =>
  db.select({ status: t.downloadItems.status, n: count() }).from(t.downloadItems).groupBy(t.downloadItems.status),
);
const oldestQueued = preparedQuery<{ at: Date }>("download_items_oldest_queued", (db, t) =>
  db
    .select({ at: t.downloadItems.createdAt })
    .from(t.downloadItems)
    .where(eq(t.downloadItems.status, "queued"))
    .orderBy(asc(t.downloadItems.createdAt))
    .limit(1),
);
const storedPerUser = preparedQuery<{ userId: string; n: string | number | null }>(
  "download_items_stored_per_user",
  (db, t) =>
    db
      .select({ userId: t.downloadItems.userId, n: sum(t.downloadItems.bytes) })
      .from(t.downloadItems)
      .where(and(eq(t.downloadItems.status, "completed"), isNotNull(t.downloadItems.filePath)))
      .groupBy(t.downloadItems.userId),
);

/** The queue's health: items per status and the oldest waiting item's creation. */
export async function queueHealth(
  database: Database,
  now: Date,
): Promise<{ counts: Record<DownloadStatus, number>; oldestQueuedAt: Date | null; expiredLeases: number }> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const grouped = await itemsPerStatus(database, {});
  const counts = emptyCounts();
  for (const g of grouped) counts[g.status] = Number(g.n);
  const [oldest] = await oldestQueued(database, {});
  const [expired] = await db
    .select({ n: count() })
    .from(i)
    .where(and(inArray(i.status, [...ACTIVE_STATUSES]), lt(i.nextAttemptAt, now)));
  return { counts, oldestQueuedAt: oldest?.at ?? null, expiredLeases: Number(expired?.n ?? 0) };
}

/** List items that hold a file, for a download (to delete them). */
export async function listItemsWithFiles(database: Database, downloadId: string): Promise<DownloadItem[]> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  return (
    db
      .select()
      .from(i)
      // Completed only: a running item's path is where its file is about to be moved (see placeFile).
      .where(and(eq(i.downloadId, downloadId), eq(i.status, "completed"), isNotNull(i.filePath)))
      .orderBy(asc(i.position))
  );
}

/** Count items per status for a set of downloads (used by tests and the API). */
export async function countItemsByStatus(
  database: Database,
  downloadId: string,
): Promise<Record<DownloadStatus, number>> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const rows = await db
    .select({ status: i.status, n: count() })
    .from(i)
    .where(eq(i.downloadId, downloadId))
    .groupBy(i.status);
  const out = emptyCounts();
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** True when some item could be claimed now: queued and due, or held with a lapsed lease. */
export async function hasClaimableItems(database: Database, now: Date): Promise<boolean> {
  const { db, tables } = database;
  const i = tables.downloadItems;
  const [row] = await db
    .select({ id: i.id })
    .from(i)
    .where(and(inArray(i.status, ["queued", ...ACTIVE_STATUSES]), lte(i.nextAttemptAt, now)))
    .limit(1);
  return row !== undefined;
}
