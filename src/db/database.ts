import { Database as BunSqlite } from "bun:sqlite";
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { drizzle as drizzleSqlite, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { DrizzleQueryError } from "drizzle-orm/errors";
import type { Sql } from "postgres";
import { DatabaseError } from "./errors";
import * as sqliteSchema from "./schema/sqlite";

export type Tables = typeof sqliteSchema;
/**
 * Store code is written once against the SQLite-typed drizzle API; on PostgreSQL the same calls run on the
 * pg tables, whose columns map to the same TypeScript types (schema.test.ts holds the two schemas equal).
 */
export type Db = BunSQLiteDatabase;

/** An open database of either dialect. */
export interface Database {
  dialect: "sqlite" | "postgres";
  db: Db;
  tables: Tables;
  /** The raw bun:sqlite handle (SQLite only). */
  sqlite?: BunSqlite;
  /** The raw postgres.js client (PostgreSQL only). */
  pg?: Sql;
  /** Where the data lives, for messages: a file path or a masked URL. */
  location: string;
  ping(): Promise<boolean>;
  /** Hand back memory the database keeps only for speed (SQLite's page cache); called when the server goes quiet. */
  releaseMemory(): void;
  close(): Promise<void>;
}

export { DatabaseError };

/**
 * Return the database's own reason for a failed query. On PostgreSQL drizzle wraps driver errors in a
 * DrizzleQueryError whose message is the SQL and every parameter (password hashes, tokens); keep those out of
 * messages and logs, and say what SQLite would say: the constraint that failed.
 */
export function dbErrorMessage(err: unknown): string {
  if (err instanceof DrizzleQueryError && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The SQLite database file of a data directory. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, "medianest.db");
}

/** Make the database and its -wal and -shm files readable by their owner only (a database from an older build too). */
function restrictToOwner(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch {
      // absent (no -shm yet) or not ours to change: SQLite itself opened it, so leave it be
    }
  }
}

function createOwnerOnly(path: string): void {
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Open (creating when absent) the SQLite database at path; refuses a file that is not a database. */
export function openSqlite(path: string): Database {
  if (path !== ":memory:") {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new DatabaseError(`cannot create ${dirname(path)}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
  }
  const isNew = path === ":memory:" || !existsSync(path);
  let sqlite: BunSqlite;
  try {
    // Created 0600 first (like the key file and backups): SQLite gives its -wal and -shm files the database's mode.
    // Another process may create it between the check and here (replicas starting together): that is fine.
    if (isNew && path !== ":memory:") createOwnerOnly(path);
    sqlite = new BunSqlite(path, { create: true, strict: true });
  } catch (err) {
    // SQLite says only "unable to open database file" when it may not create the file; name the real cause.
    if (path !== ":memory:" && !writable(dirname(path))) {
      throw new DatabaseError(
        `${path} is not writable (${(err as Error).message}); check the data directory's permissions`,
        { cause: err },
      );
    }
    throw new DatabaseError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Order matters: busy_timeout first so the WAL switch waits for other processes instead of failing.
    sqlite.exec("PRAGMA busy_timeout = 5000");
    sqlite.exec("PRAGMA journal_mode = WAL");
    sqlite.exec("PRAGMA synchronous = NORMAL");
    sqlite.exec("PRAGMA foreign_keys = ON");
    // Reading the schema fails on a file that is not a database, before anything is written to it.
    sqlite.query("SELECT count(*) FROM sqlite_master").get();
    if (!isNew) {
      const check = sqlite.query("PRAGMA quick_check").get() as { quick_check: string } | null;
      if (check?.quick_check !== "ok") throw new Error(`integrity check failed: ${check?.quick_check}`);
    }
  } catch (err) {
    sqlite.close();
    const msg = (err as Error).message;
    if (/readonly|read-only|unable to open/i.test(msg)) {
      throw new DatabaseError(`${path} is not writable (${msg}); check the data directory's permissions`, {
        cause: err,
      });
    }
    throw new DatabaseError(`${path} is not a usable SQLite database (${msg}); it was left untouched`, { cause: err });
  }
  if (path !== ":memory:") restrictToOwner(path);
  // No schema for drizzle: the store uses the query builder with the tables, never drizzle's relational queries,
  // and building their metadata from the schema was a millisecond of every start.
  const db = drizzleSqlite({ client: sqlite });
  return {
    dialect: "sqlite",
    db,
    tables: sqliteSchema,
    sqlite,
    location: path,
    async ping() {
      try {
        sqlite.query("SELECT 1").get();
        return true;
      } catch {
        return false;
      }
    },
    releaseMemory() {
      try {
        sqlite.exec("PRAGMA shrink_memory");
      } catch {
        // closed or busy: nothing to give back now
      }
    },
    async close() {
      try {
        sqlite.exec("PRAGMA optimize");
      } catch {
        // closing anyway
      }
      sqlite.close();
    },
  };
}

/** Connect to PostgreSQL, retrying with backoff until timeoutMs; postgres.js is imported only here. */
export async function openPostgres(
  url: string,
  opts: { timeoutMs?: number; log?: (line: string) => void; max?: number } = {},
): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  // The PostgreSQL schema (and drizzle's pg-core) load only in PostgreSQL mode.
  const pgSchema = await import("./schema/postgres");
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const masked = maskUrl(url);
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => {}, connect_timeout: 5, idle_timeout: 60 });
    try {
      await sql`select 1`;
      const db = drizzle({ client: sql }) as unknown as Db;
      return {
        dialect: "postgres",
        db,
        tables: pgSchema as unknown as Tables,
        pg: sql,
        location: masked,
        async ping() {
          try {
            await sql`select 1`;
            return true;
          } catch {
            return false;
          }
        },
        // postgres.js keeps no cache of its own; idle connections close after idle_timeout.
        releaseMemory() {},
        async close() {
          await sql.end({ timeout: 5 });
        },
      };
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      const reason = (err as Error).message;
      // The last wait is cut short so the final attempt lands on the deadline rather than giving up early.
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0) {
        throw new DatabaseError(
          `PostgreSQL at ${masked} did not answer within ${Math.round(timeoutMs / 1000)} s: ${reason}`,
          { cause: err },
        );
      }
      opts.log?.(`db: PostgreSQL at ${masked} not reachable (attempt ${attempt}: ${reason}); retrying in ${wait} ms`);
      await Bun.sleep(wait);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Hide the password in a database URL. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}
