import { Database as BunSqlite } from "bun:sqlite";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config/options";
import { openSqlite } from "../db/database";
import { knownMigrations } from "../db/migrate";
import { sqlitePath } from "../server/runtime";
import { CliError } from "./errors";
import { pidFile } from "./serve";

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Write an online, consistent copy of the SQLite database to <data dir>/backups (or `out`); returns its path. */
export function backup(config: Config, out?: string): string {
  if (config.databaseUrl) {
    throw new CliError(
      'backup: this instance runs on PostgreSQL; back it up with pg_dump (for example: pg_dump "$DATABASE_URL" > medianest.sql)',
      2,
    );
  }
  const src = sqlitePath(config.dataDir);
  if (!existsSync(src)) throw new CliError(`backup: there is no database at ${src}`);
  const dir = join(config.dataDir, "backups");
  const target = resolve(out ?? join(dir, `medianest-${stamp()}.db`));
  if (!out) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A backup holds every account and the encrypted secrets: like the key file, only its owner may read it. The file
  // is created empty with that mode first (VACUUM INTO fills an empty file), so it is never readable by others.
  try {
    closeSync(openSync(target, "wx", 0o600));
    chmodSync(target, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new CliError(`backup: ${target} already exists; it was left untouched`);
    throw new CliError(`backup: unable to write ${target}: ${(err as Error).message}`);
  }
  const database = openSqlite(src);
  try {
    // VACUUM INTO reads a consistent snapshot while the server keeps running.
    database.sqlite!.query("VACUUM INTO ?").run(target);
  } catch (err) {
    rmSync(target, { force: true });
    throw new CliError(`backup: unable to write ${target}: ${(err as Error).message}`);
  } finally {
    database.sqlite!.close();
  }
  return target;
}

function serverRunning(dataDir: string): number | undefined {
  const file = pidFile(dataDir);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Check that a file is a MediaNest SQLite database of a schema version this binary knows; returns that version. */
export function inspectBackup(file: string): number {
  if (!existsSync(file)) throw new CliError(`restore: ${file} does not exist`);
  let db: BunSqlite;
  try {
    db = new BunSqlite(file, { readonly: true });
  } catch (err) {
    throw new CliError(`restore: ${file} cannot be opened: ${(err as Error).message}`);
  }
  try {
    const table = db.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='medianest_migrations'").get();
    if (!table) throw new CliError(`restore: ${file} is not a MediaNest database (no migration table)`);
    const { n } = db.query("SELECT count(*) AS n FROM medianest_migrations").get() as { n: number };
    const known = knownMigrations({ dialect: "sqlite" } as never).length;
    if (n > known)
      throw new CliError(
        `restore: ${file} has schema version ${n}, newer than this binary (${known}); use a newer MediaNest`,
      );
    if (n === 0) throw new CliError(`restore: ${file} is an empty MediaNest database`);
    return n;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`restore: ${file} is not a SQLite database (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

/** Replace the database with a backup, keeping the current file beside it; refuses while a server holds the database. */
export function restore(config: Config, file: string): { restored: string; previous?: string } {
  if (config.databaseUrl)
    throw new CliError("restore: this instance runs on PostgreSQL; restore it with psql or pg_restore", 2);
  const pid = serverRunning(config.dataDir);
  if (pid) throw new CliError(`restore: MediaNest is running (pid ${pid}) on this database; stop it first`);
  inspectBackup(file);
  const target = sqlitePath(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true });
  let previous: string | undefined;
  if (existsSync(target)) {
    previous = `${target}.before-restore-${stamp()}`;
    // Fold the WAL into the main file so the kept copy is complete on its own.
    const current = openSqlite(target);
    current.sqlite!.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    current.sqlite!.close();
    renameSync(target, previous);
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
  }
  copyFileSync(file, target);
  return { restored: target, previous };
}
