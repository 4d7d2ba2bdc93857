// Snapshots of a test app's whole SQLite database, to prove a request changed nothing.
import type { TestApp } from "./test-app";

// Columns that record that a credential was used: reading a page with a session or a token touches them.
const BOOKKEEPING: Record<string, string[]> = { sessions: ["last_seen_at"], api_tokens: ["last_used_at"] };
// A refused sign-in is written to the audit log on purpose: the one row a refusal adds.
const REFUSALS_RECORDED = "SELECT * FROM audit_log WHERE action <> 'signin.failure' ORDER BY rowid";

/** Every table's rows (SQLite), in a stable order, without the bookkeeping columns. */
export function dumpTables(t: TestApp): string {
  const db = t.deps.database.sqlite!;
  const tables = db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name",
    )
    .all();
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const sql = name === "audit_log" ? REFUSALS_RECORDED : `SELECT * FROM "${name}" ORDER BY rowid`;
    const rows = db.query<Record<string, unknown>, []>(sql).all();
    const skip = BOOKKEEPING[name] ?? [];
    out[name] = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !skip.includes(k))));
  }
  return JSON.stringify(out, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
}

/** The first table whose rows differ between two dumps, with the rows, for the failure message. */
export function firstDifference(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown[]>;
  const b = JSON.parse(after) as Record<string, unknown[]>;
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[name]);
    const y = JSON.stringify(b[name]);
    if (x !== y) return `${name}: ${x?.slice(0, 400)} → ${y?.slice(0, 400)}`;
  }
  return "none";
}
