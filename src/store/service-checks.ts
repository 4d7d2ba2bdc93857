import { and, count, desc, eq, gte, inArray, lt } from "drizzle-orm";
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

/** Count checks by service and status since a moment, for the given services. */
export async function countServiceChecksSince(
  database: Database,
  services: string[],
  since: Date,
): Promise<Map<string, ServiceCheckCounts>> {
  const out = new Map<string, ServiceCheckCounts>();
  if (services.length === 0) return out;
  const { db, tables } = database;
  const t = tables.serviceChecks;
  const rows = await db
    .select({ service: t.service, status: t.status, n: count() })
    .from(t)
    .where(and(inArray(t.service, services), gte(t.checkedAt, since)))
    .groupBy(t.service, t.status);
  for (const r of rows) {
    const counts = out.get(r.service) ?? {};
    counts[r.status] = Number(r.n);
    out.set(r.service, counts);
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
