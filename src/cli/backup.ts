import { Database as BunSqlite } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import type { Config } from "../config/options";
import { openSqlite, sqliteFile } from "../db/database";
import { knownMigrations } from "../db/migrate";
import { BackupError, openBackup, restorePostgres, writeBackup } from "../services/backups";
import { CliError } from "./errors";
import { pidFile } from "./serve";

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

async function asCli<T>(command: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(`${command}: ${err.message}`);
    throw err;
  }
}

/**
 * Write an online, consistent backup (SQLite: VACUUM INTO; PostgreSQL: pg_dump custom format), encrypted when a
 * backup passphrase or key file is set, to `out` or a new file in the backup directory; returns its path.
 */
export async function backup(config: Config, out?: string): Promise<string> {
  return asCli("backup", async () => (await writeBackup(config, { out })).file);
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
export function inspectBackup(file: string, shown = file): number {
  if (!existsSync(file)) throw new CliError(`restore: ${shown} does not exist`);
  let db: BunSqlite;
  try {
    db = new BunSqlite(file, { readonly: true });
  } catch (err) {
    throw new CliError(`restore: ${shown} cannot be opened: ${(err as Error).message}`);
  }
  try {
    const table = db.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='medianest_migrations'").get();
    if (!table) throw new CliError(`restore: ${shown} is not a MediaNest database (no migration table)`);
    const { n } = db.query("SELECT count(*) AS n FROM medianest_migrations").get() as { n: number };
    const known = knownMigrations({ dialect: "sqlite" } as never).length;
    if (n > known)
      throw new CliError(
        `restore: ${shown} has schema version ${n}, newer than this binary (${known}); use a newer MediaNest`,
      );
    if (n === 0) throw new CliError(`restore: ${shown} is an empty MediaNest database`);
    return n;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`restore: ${shown} is not a SQLite database (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

/**
 * Replace the database with a backup (decrypting it when it is encrypted). SQLite: refuses while a server holds the
 * database and keeps the current file beside it. PostgreSQL: refuses while other sessions are connected unless
 * forced, backs the current database up first, and restores in one transaction.
 */
export async function restore(
  config: Config,
  file: string,
  opts: { force?: boolean } = {},
): Promise<{ restored: string; previous?: string }> {
  if (config.databaseUrl) {
    const known = knownMigrations({ dialect: "postgres" } as never).length;
    const r = await asCli("restore", () =>
      restorePostgres(config, file, { force: opts.force, knownMigrations: known }),
    );
    return { restored: "the PostgreSQL database", previous: r.previous };
  }
  const pid = serverRunning(config.dataDir);
  if (pid) throw new CliError(`restore: MediaNest is running (pid ${pid}) on this database; stop it first`);
  const opened = await asCli("restore", () => openBackup(config, file));
  try {
    inspectBackup(opened.path, file);
    const target = sqliteFile(config.dataDir);
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
    copyFileSync(opened.path, target);
    return { restored: target, previous };
  } finally {
    opened.cleanup();
  }
}
