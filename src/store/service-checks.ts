import { and, desc, eq, gte, inArray, lt, min, sql } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";

export type ServiceCheck = Tables["serviceChecks"]["$inferSelect"];
export type ServiceCheckStatus = ServiceCheck["status"];

/** Checks counted by status for one service over one period. */
export type ServiceCheckCounts = Partial<Record<ServiceCheckStatus, number>>;

/** Insert the results of one round of checks. */
export async function insertServiceChecks(database: Database, rows: ServiceCheck[]): Promise<void> {
  if (rows.length === 0) return;
  const { db, tables } = database;
  try {
    await db.insert(tables.serviceChecks).values(rows);
  } catch (err) {
    throw new Error(`store: unable to insert service checks: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** List a service's most recent checks, newest first. */
export async function listRecentServiceChecks(
  database: Database,
  service: string,
  limit: number,
): Promise<ServiceCheck[]> {
  const { db, tables } = database;
  return db
    .select()
    .from(tables.serviceChecks)
    .where(eq(tables.serviceChecks.service, service))
    .orderBy(desc(tables.serviceChecks.checkedAt), desc(tables.serviceChecks.id))
    .limit(limit);
}

/** A service's checks counted by status over each period, and its first check inside the longest one. */
export interface ServiceCheckSummary {
  day: ServiceCheckCounts;
  week: ServiceCheckCounts;
  month: ServiceCheckCounts;
  /** The oldest check since `since.from`: when it is younger than a period's start, history covers less of it. */
  firstAt: Date;
}

/**
 * Summarise checks by service for three periods in one read (the covering index answers it without the table);
 * `from`, at or before `month`, is how far back to look for the first check.
 */
export async function summariseServiceChecks(
  database: Database,
  services: string[],
  since: { day: Date; week: Date; month: Date; from: Date },
): Promise<Map<string, ServiceCheckSummary>> {
  const out = new Map<string, ServiceCheckSummary>();
  if (services.length === 0) return out;
  const { db, tables } = database;
  const t = tables.serviceChecks;
  const rows = await db
    .select({
      service: t.service,
      status: t.status,
      month: sql<number>`count(case when ${gte(t.checkedAt, since.month)} then 1 end)`,
      week: sql<number>`count(case when ${gte(t.checkedAt, since.week)} then 1 end)`,
      day: sql<number>`count(case when ${gte(t.checkedAt, since.day)} then 1 end)`,
      firstAt: min(t.checkedAt),
    })
    .from(t)
    .where(and(inArray(t.service, services), gte(t.checkedAt, since.from)))
    .groupBy(t.service, t.status);
  for (const r of rows) {
    if (!r.firstAt) continue;
    const firstAt = new Date(r.firstAt);
    const s = out.get(r.service) ?? { day: {}, week: {}, month: {}, firstAt };
    for (const period of ["month", "week", "day"] as const) {
      const n = Number(r[period]);
      if (n > 0) s[period][r.status] = n;
    }
    if (firstAt < s.firstAt) s.firstAt = firstAt;
    out.set(r.service, s);
  }
  return out;
}

/** Delete checks older than a moment; returns how many were removed. */
export async function deleteServiceChecksBefore(database: Database, before: Date): Promise<number> {
  const { db, tables } = database;
  try {
    const rows = await db
      .delete(tables.serviceChecks)
      .where(lt(tables.serviceChecks.checkedAt, before))
      .returning({ id: tables.serviceChecks.id });
    return rows.length;
  } catch (err) {
    throw new Error(`store: unable to delete old service checks: ${dbErrorMessage(err)}`, { cause: err });
  }
}
