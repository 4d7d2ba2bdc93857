import { and, count, desc, eq, type SQL } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";

export type AuditEntry = Tables["auditLog"]["$inferSelect"];
export type NewAuditEntry = Omit<Tables["auditLog"]["$inferInsert"], "id" | "at">;

/** Append one entry to the audit log. */
export async function insertAuditEntry(database: Database, entry: NewAuditEntry): Promise<void> {
  const { db, tables } = database;
  try {
    await db.insert(tables.auditLog).values({ ...entry, id: crypto.randomUUID(), at: new Date() });
  } catch (err) {
    throw new Error(`store: unable to insert audit entry ${entry.action}: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** List audit entries, newest first, filtered by action and actor. */
export async function listAuditEntries(
  database: Database,
  filter: { action?: string; actorId?: string; limit?: number; offset?: number } = {},
): Promise<{ entries: AuditEntry[]; total: number }> {
  const { db, tables } = database;
  const conds: SQL[] = [];
  if (filter.action) conds.push(eq(tables.auditLog.action, filter.action));
  if (filter.actorId) conds.push(eq(tables.auditLog.actorId, filter.actorId));
  const where = conds.length ? and(...conds) : undefined;
  const entries = await db
    .select()
    .from(tables.auditLog)
    .where(where)
    .orderBy(desc(tables.auditLog.at))
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  const [c] = await db.select({ n: count() }).from(tables.auditLog).where(where);
  return { entries, total: Number(c?.n ?? 0) };
}
