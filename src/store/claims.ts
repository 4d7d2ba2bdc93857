/**
 * Claimed rows: the one mechanism for durable work (notification deliveries, download items). A row is due when
 * its status is claimable and its due column has passed; claiming it sets the claimed status, counts an attempt
 * and moves the due column to the end of a lease. A row whose lease ran out is due again, so the work of a
 * replica that died is taken over. The attempt count fences every later write of the claimer.
 *
 * PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip rows another transaction is claiming.
 * SQLite: one `UPDATE … RETURNING` is one write transaction and SQLite admits one writer at a time
 * (busy_timeout makes another process wait), so the rows it picks cannot be picked by another claimer.
 */
import { dbErrorMessage, type Database } from "../db/database";

/** What kind of rows to claim, and in which order. SQL fragments use {now} and {lease}; `c` names the row. */
export interface ClaimSpec {
  /** For messages: "deliveries", "download items". */
  label: string;
  table: string;
  /** Statuses from which a due row may be claimed (the claimed status among them: an expired lease). */
  from: readonly string[];
  claimed: string;
  /** The column that holds when a row is due, and the lease's end once claimed. */
  dueColumn: string;
  /** More assignments made by a claim, e.g. `claimed_at = {now}`. */
  set?: string;
  /** ORDER BY of the candidates (the claim takes the first `limit`). */
  order: string;
}

export interface ClaimWindow {
  now: Date;
  /** Claimed rows stay claimed until then; a claimer that dies leaves them to be claimed again after. */
  leaseUntil: Date;
  limit: number;
}

function quoted(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");
}

function claimSql(spec: ClaimSpec, p: { now: string; lease: string; limit: string }, lock: string): string {
  const fill = (s: string) => s.replaceAll("{now}", p.now).replaceAll("{lease}", p.lease);
  return `update ${spec.table}
    set status = '${spec.claimed}', attempts = attempts + 1, ${spec.dueColumn} = ${p.lease}${spec.set ? `, ${fill(spec.set)}` : ""}
    where id in (
      select c.id from ${spec.table} c
      where c.status in (${quoted(spec.from)}) and c.${spec.dueColumn} <= ${p.now}
      order by ${fill(spec.order)}
      limit ${p.limit}
      ${lock}
    )
    returning id`;
}

/** Claim up to limit due rows; returns their ids (in no particular order). No row goes to two claimers. */
export async function claimRows(database: Database, spec: ClaimSpec, w: ClaimWindow): Promise<string[]> {
  try {
    if (database.dialect === "postgres") {
      const pg = database.pg;
      if (!pg) throw new Error("no PostgreSQL client");
      // drizzle's postgres.js client sends timestamps as text, so they go in as ISO strings.
      const text = claimSql(
        spec,
        { now: "$1::timestamptz", lease: "$2::timestamptz", limit: "$3" },
        "for update of c skip locked",
      );
      const rows = await pg.unsafe<{ id: string }[]>(text, [w.now.toISOString(), w.leaseUntil.toISOString(), w.limit]);
      return rows.map((r) => r.id);
    }
    const sqlite = database.sqlite;
    if (!sqlite) throw new Error("no SQLite handle");
    const rows = sqlite
      .query(claimSql(spec, { now: "$now", lease: "$lease", limit: "$limit" }, ""))
      .all({ now: w.now.getTime(), lease: w.leaseUntil.getTime(), limit: w.limit }) as { id: string }[];
    return rows.map((r) => r.id);
  } catch (err) {
    throw new Error(`store: unable to claim ${spec.label}: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/**
 * Extend a claimed row's lease (a heartbeat); false when the claim was lost (another claimer took the row over,
 * or it left the claimed statuses), which tells the worker to stop.
 */
export async function extendLease(
  database: Database,
  spec: Pick<ClaimSpec, "label" | "table" | "dueColumn">,
  claim: { id: string; attempts: number; statuses: readonly string[]; leaseUntil: Date },
): Promise<boolean> {
  const where = `id = {id} and attempts = {attempts} and status in (${quoted(claim.statuses)})`;
  try {
    if (database.dialect === "postgres") {
      const text = `update ${spec.table} set ${spec.dueColumn} = $1::timestamptz where ${where
        .replace("{id}", "$2")
        .replace("{attempts}", "$3")} returning id`;
      const rows = await database.pg!.unsafe(text, [claim.leaseUntil.toISOString(), claim.id, claim.attempts]);
      return rows.length > 0;
    }
    const text = `update ${spec.table} set ${spec.dueColumn} = $lease where ${where
      .replace("{id}", "$id")
      .replace("{attempts}", "$attempts")} returning id`;
    const rows = database.sqlite!.query(text).all({
      lease: claim.leaseUntil.getTime(),
      id: claim.id,
      attempts: claim.attempts,
    });
    return rows.length > 0;
  } catch (err) {
    throw new Error(`store: unable to extend the lease of ${spec.label}: ${dbErrorMessage(err)}`, { cause: err });
  }
}
