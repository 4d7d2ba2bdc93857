import { and, count, desc, eq, exists, gte, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import { preparedQuery } from "../db/prepared";

export type MediaRequest = Tables["mediaRequests"]["$inferSelect"];
export type NewMediaRequest = Tables["mediaRequests"]["$inferInsert"];
export type MediaRequestState = MediaRequest["status"];
export type SeerrLink = Tables["seerrLinks"]["$inferSelect"];

/** A request with the display name of who asked (admins' lists show it). */
export interface MediaRequestWithUser extends MediaRequest {
  requesterName: string;
}

/** Insert a request; a second insert of the same Seerr request (a webhook racing the page) returns the first. */
export async function insertMediaRequest(database: Database, row: NewMediaRequest): Promise<MediaRequest> {
  const { db, tables } = database;
  try {
    const [created] = await db
      .insert(tables.mediaRequests)
      .values(row)
      .onConflictDoNothing({ target: [tables.mediaRequests.seerrServer, tables.mediaRequests.seerrRequestId] })
      .returning();
    if (created) return created;
    const existing = await findMediaRequestBySeerrId(database, row.seerrServer, row.seerrRequestId);
    if (!existing) throw new Error("the row it conflicted with is gone");
    return existing;
  } catch (err) {
    throw new Error(`store: unable to insert media request: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Find a request by id. */
export async function findMediaRequestById(database: Database, id: string): Promise<MediaRequest | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.mediaRequests).where(eq(tables.mediaRequests.id, id)).limit(1);
  return row;
}

/** Find a request by the Seerr server it lives on and its id there. */
export async function findMediaRequestBySeerrId(
  database: Database,
  seerrServer: string,
  seerrRequestId: number,
): Promise<MediaRequest | undefined> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.seerrServer, seerrServer), eq(t.seerrRequestId, seerrRequestId)))
    .limit(1);
  return row;
}

export interface MediaRequestFilter {
  userId?: string;
  statuses?: MediaRequestState[];
  limit?: number;
  offset?: number;
}

function whereOf(database: Database, f: MediaRequestFilter): SQL | undefined {
  const t = database.tables.mediaRequests;
  const conds: SQL[] = [];
  if (f.userId) conds.push(eq(t.userId, f.userId));
  if (f.statuses?.length) conds.push(inArray(t.status, f.statuses));
  return conds.length ? and(...conds) : undefined;
}

/** List requests newest first with who asked, and the total for paging: two queries whatever the page size. */
export async function listMediaRequests(
  database: Database,
  f: MediaRequestFilter = {},
): Promise<{ items: MediaRequestWithUser[]; total: number }> {
  const { db, tables } = database;
  const where = whereOf(database, f);
  const [items, [c]] = await Promise.all([
    listNewestMediaRequests(database, f),
    db.select({ n: count() }).from(tables.mediaRequests).where(where),
  ]);
  return { items, total: Number(c?.n ?? 0) };
}

/** One page of requests, newest first, with who asked. */
async function listNewestMediaRequests(
  database: Database,
  f: MediaRequestFilter = {},
): Promise<MediaRequestWithUser[]> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  const where = whereOf(database, f);
  const rows = await db
    .select({ request: t, requesterName: tables.users.displayName })
    .from(t)
    .innerJoin(tables.users, eq(tables.users.id, t.userId))
    .where(where)
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(f.limit ?? 25)
    .offset(f.offset ?? 0);
  return rows.map((r) => ({ ...r.request, requesterName: r.requesterName }));
}

const userRequestPage = preparedQuery<MediaRequest>("user_request_page", (db, t) =>
  db
    .select()
    .from(t.mediaRequests)
    .where(eq(t.mediaRequests.userId, sql.placeholder("userId")))
    .orderBy(desc(t.mediaRequests.createdAt), desc(t.mediaRequests.id))
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset")),
);

const userRequestCount = preparedQuery<{ n: number }>("user_request_count", (db, t) =>
  db
    .select({ n: count() })
    .from(t.mediaRequests)
    .where(eq(t.mediaRequests.userId, sql.placeholder("userId"))),
);

/** One page of a person's own requests, newest first, and how many they have ("your requests": prepared statements). */
export async function listUserMediaRequests(
  database: Database,
  userId: string,
  page: { limit: number; offset: number },
): Promise<{ items: MediaRequest[]; total: number }> {
  const [items, [c]] = await Promise.all([
    userRequestPage(database, { userId, ...page }),
    userRequestCount(database, { userId }),
  ]);
  return { items, total: Number(c?.n ?? 0) };
}

/** List a user's newest requests (the dashboard): one query on the (user, created) index. */
export async function listRecentMediaRequestsByUser(
  database: Database,
  userId: string,
  limit: number,
): Promise<MediaRequest[]> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  return db.select().from(t).where(eq(t.userId, userId)).orderBy(desc(t.createdAt), desc(t.id)).limit(limit);
}

/** Return when each of a user's quota-using requests since a moment was made, oldest first. */
export async function listRequestTimesSince(database: Database, userId: string, since: Date): Promise<Date[]> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  const rows = await db
    .select({ at: t.createdAt })
    .from(t)
    .where(and(eq(t.userId, userId), gte(t.createdAt, since), notInArray(t.status, ["declined", "cancelled"])))
    .orderBy(t.createdAt);
  return rows.map((r) => r.at);
}

/** List the requests for some titles that are still live (for badges): pending, approved or on the way. */
export async function listLiveRequestsForTitles(
  database: Database,
  mediaType: "movie" | "tv",
  tmdbIds: number[],
): Promise<MediaRequestWithUser[]> {
  if (tmdbIds.length === 0) return [];
  const { db, tables } = database;
  const t = tables.mediaRequests;
  const rows = await db
    .select({ request: t, requesterName: tables.users.displayName })
    .from(t)
    .innerJoin(tables.users, eq(tables.users.id, t.userId))
    .where(and(eq(t.mediaType, mediaType), inArray(t.tmdbId, tmdbIds), notInArray(t.status, ["cancelled", "deleted"])))
    .orderBy(desc(t.createdAt));
  return rows.map((r) => ({ ...r.request, requesterName: r.requesterName }));
}

/**
 * Change a request, but only while its status is still `from`: compare and set, so a webhook, the sync job and a
 * page changing the same request on different replicas make one transition and tell the user once. Returns the
 * changed row, or undefined when someone else changed it first (or it is gone).
 */
export async function updateMediaRequestIf(
  database: Database,
  id: string,
  from: MediaRequestState,
  patch: Partial<NewMediaRequest>,
): Promise<MediaRequest | undefined> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  const [row] = await db
    .update(t)
    .set({ ...patch, updatedAt: patch.updatedAt ?? new Date() })
    .where(and(eq(t.id, id), eq(t.status, from)))
    .returning();
  return row;
}

/** Change fields of a request that do not change its status (the raw Seerr numbers). */
export async function touchMediaRequest(
  database: Database,
  id: string,
  patch: Pick<Partial<NewMediaRequest>, "seerrStatus" | "mediaStatus" | "seasons" | "plexRatingKey">,
): Promise<void> {
  const { db, tables } = database;
  await db.update(tables.mediaRequests).set(patch).where(eq(tables.mediaRequests.id, id));
}

/** Find a user's link to their Seerr account. */
export async function findSeerrLink(database: Database, userId: string): Promise<SeerrLink | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.seerrLinks).where(eq(tables.seerrLinks.userId, userId)).limit(1);
  return row;
}

/** Find the MediaNest user linked to a Seerr user. */
export async function findSeerrLinkBySeerrUser(
  database: Database,
  seerrUserId: number,
): Promise<SeerrLink | undefined> {
  const { db, tables } = database;
  const [row] = await db
    .select()
    .from(tables.seerrLinks)
    .where(eq(tables.seerrLinks.seerrUserId, seerrUserId))
    .limit(1);
  return row;
}

/** Insert or replace a user's link to their Seerr account. */
export async function upsertSeerrLink(database: Database, link: SeerrLink): Promise<void> {
  const { db, tables } = database;
  try {
    await db
      .insert(tables.seerrLinks)
      .values(link)
      .onConflictDoUpdate({
        target: tables.seerrLinks.userId,
        set: { seerrUserId: link.seerrUserId, how: link.how, seerrName: link.seerrName, linkedAt: link.linkedAt },
      });
  } catch (err) {
    throw new Error(`store: unable to save the Seerr link: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Remove a user's link to their Seerr account. */
export async function deleteSeerrLink(database: Database, userId: string): Promise<void> {
  const { db, tables } = database;
  await db.delete(tables.seerrLinks).where(eq(tables.seerrLinks.userId, userId));
}

const pendingCount = preparedQuery<{ n: number }>("pending_media_requests", (db, t) =>
  db
    .select({ n: count() })
    .from(t.mediaRequests)
    .where(eq(t.mediaRequests.status, sql.placeholder("status"))),
);

/** Count the requests waiting for approval (every admin page's navigation: a prepared statement). */
export async function countPendingMediaRequests(database: Database): Promise<number> {
  const [c] = await pendingCount(database, { status: "pending" });
  return Number(c?.n ?? 0);
}

/** Find several requests by id (one query). */
export async function listMediaRequestsByIds(database: Database, ids: string[]): Promise<MediaRequest[]> {
  if (ids.length === 0) return [];
  const { db, tables } = database;
  return db.select().from(tables.mediaRequests).where(inArray(tables.mediaRequests.id, ids));
}

/** List the users who have made requests, by name (the admins' filter): one query, by user, not by request. */
export async function listRequesters(database: Database): Promise<{ id: string; displayName: string }[]> {
  const { db, tables } = database;
  const u = tables.users;
  const t = tables.mediaRequests;
  return db
    .select({ id: u.id, displayName: u.displayName })
    .from(u)
    .where(exists(db.select({ one: sql`1` }).from(t).where(eq(t.userId, u.id))))
    .orderBy(u.displayName);
}

// Request states that can still change (the sync job asks Seerr about these when its list lacks them).
const OPEN_STATES: MediaRequestState[] = ["pending", "approved", "processing", "partially_available", "unknown"];

/** List the requests on one Seerr server whose state can still change (one query). */
export async function listOpenMediaRequests(database: Database, seerrServer: string): Promise<MediaRequest[]> {
  const { db, tables } = database;
  const t = tables.mediaRequests;
  return db
    .select()
    .from(t)
    .where(and(eq(t.seerrServer, seerrServer), inArray(t.status, OPEN_STATES)));
}

/** List every user's link to their Seerr account. */
export async function listSeerrLinks(database: Database): Promise<SeerrLink[]> {
  const { db, tables } = database;
  return db.select().from(tables.seerrLinks);
}
