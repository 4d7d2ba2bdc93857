import { postgresMigrations, sqliteMigrations, type Migration } from "../../migrations";
import { DatabaseError, type Database } from "./database";

// Any constant works; it only has to be the same for every replica.
const PG_LOCK_ID = 7_170_417;

/** How far a database is migrated compared with what this binary knows. */
export interface SchemaStatus {
  applied: number;
  known: number;
}

/** Return the migrations this binary embeds for the database's dialect. */
export function knownMigrations(database: Database): Migration[] {
  return database.dialect === "sqlite" ? sqliteMigrations : postgresMigrations;
}

function statements(migration: Migration): string[] {
  return migration.sql
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter(Boolean);
}

function tooNew(applied: number, known: number): DatabaseError {
  return new DatabaseError(
    `the database is at schema version ${applied}, newer than this binary (version ${known}); run a newer MediaNest or restore a backup`,
  );
}

/** Read the schema version without changing anything. */
export async function schemaStatus(database: Database): Promise<SchemaStatus> {
  const known = knownMigrations(database).length;
  if (database.sqlite) {
    const exists = database.sqlite
      .query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='medianest_migrations'")
      .get();
    if (!exists) return { applied: 0, known };
    const row = database.sqlite.query("SELECT count(*) AS n FROM medianest_migrations").get() as { n: number };
    return { applied: row.n, known };
  }
  const pg = database.pg!;
  const [exists] = await pg`select to_regclass('medianest_migrations') as t`;
  if (!exists?.t) return { applied: 0, known };
  const [row] = await pg`select count(*)::int as n from medianest_migrations`;
  return { applied: row?.n ?? 0, known };
}

/**
 * Apply the migrations the database lacks, under a lock so that replicas starting together migrate once.
 * Returns the tags applied (empty when the database was current).
 */
export async function migrate(database: Database): Promise<string[]> {
  const migrations = knownMigrations(database);
  if (database.sqlite) {
    const db = database.sqlite;
    // BEGIN IMMEDIATE takes the write lock up front: a second process waits (busy_timeout), then sees the result.
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(
        "CREATE TABLE IF NOT EXISTS medianest_migrations (idx INTEGER PRIMARY KEY, tag TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      );
      const { n } = db.query("SELECT count(*) AS n FROM medianest_migrations").get() as { n: number };
      if (n > migrations.length) throw tooNew(n, migrations.length);
      const applied: string[] = [];
      for (const [idx, m] of migrations.entries()) {
        if (idx < n) continue;
        for (const stmt of statements(m)) db.exec(stmt);
        db.query("INSERT INTO medianest_migrations (idx, tag, applied_at) VALUES (?, ?, ?)").run(
          idx,
          m.tag,
          Date.now(),
        );
        applied.push(m.tag);
      }
      db.exec("COMMIT");
      return applied;
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
  const pg = database.pg!;
  const reserved = await pg.reserve();
  try {
    await reserved`select pg_advisory_lock(${PG_LOCK_ID})`;
    await reserved`create table if not exists medianest_migrations (idx integer primary key, tag text not null, applied_at timestamptz not null default now())`;
    const [row] = await reserved`select count(*)::int as n from medianest_migrations`;
    const n = row?.n ?? 0;
    if (n > migrations.length) throw tooNew(n, migrations.length);
    const applied: string[] = [];
    for (const [idx, m] of migrations.entries()) {
      if (idx < n) continue;
      // A reserved connection has no .begin(); BEGIN/COMMIT by hand on it (postgres.js allows that only there).
      await reserved`begin`;
      try {
        for (const stmt of statements(m)) await reserved.unsafe(stmt);
        await reserved`insert into medianest_migrations (idx, tag) values (${idx}, ${m.tag})`;
        await reserved`commit`;
      } catch (err) {
        await reserved`rollback`.catch(() => {});
        throw new DatabaseError(`migration ${m.tag} failed and was rolled back: ${(err as Error).message}`, {
          cause: err,
        });
      }
      applied.push(m.tag);
    }
    return applied;
  } finally {
    await reserved`select pg_advisory_unlock(${PG_LOCK_ID})`.catch(() => {});
    reserved.release();
  }
}

/** Refuse to serve from a database whose schema is newer than this binary. */
export async function assertSchemaCurrent(database: Database): Promise<void> {
  const s = await schemaStatus(database);
  if (s.applied > s.known) throw tooNew(s.applied, s.known);
}
