import type { Database } from "../db/database";

/** The tables whose lookups are kept (each written only through its store module, with `writing`). */
export type KeptTable = "sessions" | "users" | "notifications";

/** At most this long, whatever was written: another process (`medianest create-admin`) may write the file. */
export const KEEP_MS = 2_000;
/** Kept values per lookup; past it the oldest are dropped. */
const MAX_KEPT = 1_000;

const writes = new WeakMap<Database, Record<KeptTable, number>>();

function writesOf(database: Database): Record<KeptTable, number> {
  let w = writes.get(database);
  if (!w) {
    w = { sessions: 0, users: 0, notifications: 0 };
    writes.set(database, w);
  }
  return w;
}

/** Run a write to one of the kept tables, then count it, failed or not: what was kept from the table is read again. */
export async function writing<T>(database: Database, table: KeptTable, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } finally {
    if (database.dialect === "sqlite") writesOf(database)[table]++;
  }
}

/** Read every kept value afresh, as if each table had been written (the page-queries test counts cold pages). */
export function forgetKept(database: Database): void {
  const w = writesOf(database);
  for (const table of Object.keys(w) as KeptTable[]) w[table]++;
}

/**
 * A lookup that every signed-in request repeats (its session with its user, the bell's unread count), kept in
 * memory between writes on SQLite. The serving process owns the SQLite file (no second replica shares it) and writes
 * these tables only through their store modules, which count each write (`writing`): a kept value is used while no
 * write to its tables happened since it was read, and for at most KEEP_MS. On PostgreSQL other replicas write too:
 * nothing is kept.
 * Kept values are frozen, so a caller that changes one fails at once instead of changing it for everyone.
 * Measured: the three lookups were a third of the signed-in dashboard's time (docs/performance.md).
 */
export function keptLookup<V>(
  tables: KeptTable[],
  read: (database: Database, key: string) => Promise<V>,
): (database: Database, key: string) => Promise<V> {
  const kept = new WeakMap<Database, Map<string, { value: V; writes: number; until: number }>>();
  // Counts only grow, so their sum changes whenever one of them does.
  const writesTo = (w: Record<KeptTable, number>) => tables.reduce((n, t) => n + w[t], 0);
  return async (database, key) => {
    if (database.dialect !== "sqlite") return read(database, key);
    const w = writesOf(database);
    const now = Date.now();
    let byKey = kept.get(database);
    const hit = byKey?.get(key);
    if (hit && hit.writes === writesTo(w) && hit.until > now) return hit.value;
    // The count is taken before reading: a write that lands meanwhile makes this value stale at once.
    const before = writesTo(w);
    const value = deepFreeze(await read(database, key));
    if (!byKey) kept.set(database, (byKey = new Map()));
    byKey.delete(key);
    if (byKey.size >= MAX_KEPT) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, { value, writes: before, until: now + KEEP_MS });
    return value;
  };
}

function deepFreeze<V>(value: V): V {
  if (value && typeof value === "object" && !Object.isFrozen(value) && !(value instanceof Date)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
