/**
 * Backups of either database: a VACUUM INTO copy of SQLite or a pg_dump custom-format archive of PostgreSQL,
 * optionally encrypted in the age format (passphrase or key file), restores of both, and retention.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { AppDeps } from "../app/deps";
import type { Config } from "../config/options";
import { DROP_CURRENT_TABLES, otherConnections, tableRowCounts, vacuumInto } from "../db/backup";
import { openPostgres, openSqlite, sqliteFile, type Database } from "../db/database";
import { findSetting, upsertSetting } from "../store/settings";

export type BackupConfig = Pick<
  Config,
  "dataDir" | "databaseUrl" | "backupDir" | "backupKeep" | "backupPassphrase" | "backupKeyFile"
>;

/** A backup or restore that cannot go on; the message is for the person who asked. */
export class BackupError extends Error {}

/** The names the backup job writes (and the only files its retention deletes). */
export const BACKUP_NAME = /^medianest-\d{8}-\d{6}\.(db|pgdump)(\.age)?$/;
const AGE_HEADER = "age-encryption.org/v1\n";
const KEEP_SETTING = "backups.keep";

export function backupDirectory(config: BackupConfig): string {
  return resolve(config.backupDir ?? join(config.dataDir, "backups"));
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** True when backups are written encrypted (a passphrase or a key file is set). */
export function encrypting(config: BackupConfig): boolean {
  return Boolean(config.backupPassphrase || config.backupKeyFile);
}

/** The file name a new backup gets: medianest-YYYYMMDD-HHMMSS.db or .pgdump, with .age when encrypted. */
export function backupFileName(config: BackupConfig, at = new Date(), suffix = ""): string {
  const ext = config.databaseUrl ? "pgdump" : "db";
  return `medianest-${stamp(at)}${suffix}.${ext}${encrypting(config) ? ".age" : ""}`;
}

interface KeyFile {
  identities: string[];
  recipients: string[];
}

async function readKeyFile(path: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await Bun.file(path).text();
  } catch (err) {
    throw new BackupError(`the backup key file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code}`);
  }
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const identities = lines.filter((l) => l.startsWith("AGE-SECRET-KEY-"));
  const recipients = lines.filter((l) => l.startsWith("age1"));
  if (!identities.length && !recipients.length)
    throw new BackupError(
      `the backup key file ${path} holds no age key (an AGE-SECRET-KEY-1… line, as age-keygen writes, or an age1… recipient)`,
    );
  return { identities, recipients };
}

function bothKeys(config: BackupConfig): void {
  if (config.backupPassphrase && config.backupKeyFile)
    throw new BackupError("set MEDIANEST_BACKUP_PASSPHRASE or MEDIANEST_BACKUP_KEY_FILE, not both");
}

// age-encryption loads only when backups are encrypted.
async function encrypter(config: BackupConfig) {
  bothKeys(config);
  if (!encrypting(config)) return undefined;
  const { Encrypter, identityToRecipient } = await import("age-encryption");
  const e = new Encrypter();
  if (config.backupPassphrase) {
    e.setPassphrase(config.backupPassphrase);
    return e;
  }
  const keys = await readKeyFile(config.backupKeyFile!);
  for (const r of keys.recipients) e.addRecipient(r);
  for (const id of keys.identities) e.addRecipient(await identityToRecipient(id));
  return e;
}

async function isEncrypted(file: string): Promise<boolean> {
  const head = await Bun.file(file).slice(0, AGE_HEADER.length).text();
  return head === AGE_HEADER;
}

/** Create an empty file only its owner may read; a backup holds every account and the encrypted secrets. */
function createPrivate(target: string): void {
  try {
    closeSync(openSync(target, "wx", 0o600));
    chmodSync(target, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new BackupError(`${target} already exists; it was left untouched`);
    throw new BackupError(`unable to write ${target}: ${(err as Error).message}`);
  }
}

async function writeInto(target: string, stream: ReadableStream<Uint8Array>, config: BackupConfig): Promise<void> {
  const e = await encrypter(config);
  const body = e ? await e.encrypt(stream) : stream;
  // The file exists already with mode 0600; writing into it keeps the mode.
  await Bun.write(target, new Response(body));
}

/** What pg_dump, pg_restore and psql are given: the URL without its password, which goes in PGPASSWORD. */
function libpq(url: string): { dbname: string; env: Record<string, string | undefined> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  return {
    dbname: u.toString(),
    env: { ...process.env, PGPASSWORD: password || process.env.PGPASSWORD, PGAPPNAME: "medianest-backup" },
  };
}

function tool(name: "pg_dump" | "pg_restore" | "psql"): string {
  const path = Bun.which(name, { PATH: process.env.PATH ?? "" });
  if (!path)
    throw new BackupError(
      `${name} was not found on PATH; install the PostgreSQL client tools of the server's major version or newer (Debian: apt-get install postgresql-client)`,
    );
  return path;
}

function lastLines(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return lines.slice(-3).join("; ") || "no message";
}

/** Write a backup of the configured database to `out`, or a new file in the backup directory; returns its path. */
export async function writeBackup(
  config: BackupConfig,
  opts: { out?: string; database?: Database } = {},
): Promise<{ file: string; bytes: number; encrypted: boolean }> {
  bothKeys(config);
  const dir = backupDirectory(config);
  const target = resolve(opts.out ?? join(dir, backupFileName(config)));
  if (!opts.out) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (config.databaseUrl) await dumpPostgres(config, target);
  else await copySqlite(config, target, opts.database);
  return { file: target, bytes: statSync(target).size, encrypted: encrypting(config) };
}

async function copySqlite(config: BackupConfig, target: string, open?: Database): Promise<void> {
  const src = sqliteFile(config.dataDir);
  if (!open && !existsSync(src)) throw new BackupError(`there is no database at ${src}`);
  createPrivate(target);
  const database = open ?? openSqlite(src);
  const plain = encrypting(config) ? `${target}.partial` : target;
  try {
    if (plain !== target) createPrivate(plain);
    vacuumInto(database, plain);
    if (plain !== target) await writeInto(target, Bun.file(plain).stream(), config);
  } catch (err) {
    rmSync(target, { force: true });
    if (err instanceof BackupError) throw err;
    throw new BackupError(`unable to write ${target}: ${(err as Error).message}`);
  } finally {
    if (plain !== target) rmSync(plain, { force: true });
    if (!open) await database.close();
  }
}

async function dumpPostgres(config: BackupConfig, target: string): Promise<void> {
  const pgDump = tool("pg_dump");
  const { dbname, env } = libpq(config.databaseUrl!);
  createPrivate(target);
  const proc = Bun.spawn([pgDump, "--format=custom", "--no-owner", "--no-privileges", "--dbname", dbname], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const [, stderr, code] = await Promise.all([
      writeInto(target, proc.stdout, config),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new BackupError(`pg_dump failed: ${lastLines(stderr)}`);
  } catch (err) {
    proc.kill();
    rmSync(target, { force: true });
    if (err instanceof BackupError) throw err;
    throw new BackupError(`unable to write ${target}: ${(err as Error).message}`);
  }
}

/**
 * The backup as a plain file: itself, or decrypted into a private temporary directory (removed by cleanup()).
 * An encrypted backup needs the passphrase or key file it was written with.
 */
export async function openBackup(
  config: BackupConfig,
  file: string,
): Promise<{ path: string; encrypted: boolean; cleanup(): void }> {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  if (!(await isEncrypted(file))) return { path: file, encrypted: false, cleanup() {} };
  bothKeys(config);
  if (!encrypting(config))
    throw new BackupError(
      `${file} is encrypted; set MEDIANEST_BACKUP_PASSPHRASE or MEDIANEST_BACKUP_KEY_FILE as when it was written`,
    );
  const { Decrypter } = await import("age-encryption");
  const d = new Decrypter();
  if (config.backupPassphrase) d.addPassphrase(config.backupPassphrase);
  else {
    const keys = await readKeyFile(config.backupKeyFile!);
    if (!keys.identities.length)
      throw new BackupError(
        `${file} is encrypted and the key file ${config.backupKeyFile} holds only a recipient; restore needs the AGE-SECRET-KEY-1… line`,
      );
    for (const id of keys.identities) d.addIdentity(id);
  }
  const dir = mkdtempSync(join(tmpdir(), "medianest-restore-"));
  const path = join(dir, basename(file).replace(/\.age$/, ""));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    createPrivate(path);
    await Bun.write(path, new Response(await d.decrypt(Bun.file(file).stream())));
  } catch (err) {
    cleanup();
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${file} cannot be decrypted with the configured key: ${(err as Error).message}`);
  }
  return { path, encrypted: true, cleanup };
}

async function run(
  cmd: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}

/** The schema version inside a pg_dump archive (rows of medianest_migrations); refuses a file that is not one. */
async function dumpSchemaVersion(file: string, shown: string): Promise<number> {
  const pgRestore = tool("pg_restore");
  const list = await run([pgRestore, "--list", file], process.env);
  if (list.code !== 0) throw new BackupError(`${shown} is not a PostgreSQL backup (${lastLines(list.err)})`);
  if (!/TABLE DATA \S+ medianest_migrations /.test(list.out))
    throw new BackupError(`${shown} is not a MediaNest backup (no migration table)`);
  const data = await run([pgRestore, "--data-only", "--table=medianest_migrations", "--file=-", file], process.env);
  const lines = data.out.split("\n");
  const start = lines.findIndex((l) => l.startsWith("COPY ") && l.includes("medianest_migrations"));
  const end = lines.indexOf("\\.", start);
  return start < 0 || end < 0 ? 0 : end - start - 1;
}

/**
 * Replace the PostgreSQL database with a backup, in one transaction: every current table is dropped and the
 * archive's restored. Refuses while other sessions (replicas) are connected unless forced; a backup of the current
 * database is written first (medianest-…-before-restore.pgdump) and kept.
 */
export async function restorePostgres(
  config: BackupConfig,
  file: string,
  opts: { force?: boolean; knownMigrations: number },
): Promise<{ previous: string; tables: Record<string, number> }> {
  if (!config.databaseUrl) throw new BackupError("this instance runs on SQLite");
  const pgRestore = tool("pg_restore");
  const psql = tool("psql");
  const opened = await openBackup(config, file);
  try {
    const version = await dumpSchemaVersion(opened.path, file);
    if (version === 0) throw new BackupError(`${file} holds an empty MediaNest database`);
    if (version > opts.knownMigrations)
      throw new BackupError(
        `${file} has schema version ${version}, newer than this binary (${opts.knownMigrations}); use a newer MediaNest`,
      );
    const database = await openPostgres(config.databaseUrl, { timeoutMs: 10_000, max: 1 });
    try {
      const others = await otherConnections(database);
      if (others.length && !opts.force)
        throw new BackupError(
          `${others.length} other connection${others.length === 1 ? " is" : "s are"} open on this database (${[...new Set(others)].join(", ")}); stop every MediaNest replica first (docker service scale medianest_medianest=0), or pass --force`,
        );
      const dir = backupDirectory(config);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const previous = join(dir, backupFileName(config, new Date(), "-before-restore"));
      await writeBackup(config, { out: previous });
      const { dbname, env } = libpq(config.databaseUrl);
      const script = Bun.spawn([pgRestore, "--no-owner", "--no-privileges", "--file=-", opened.path], {
        env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const apply = Bun.spawn(
        [
          psql,
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "--single-transaction",
          "-c",
          DROP_CURRENT_TABLES,
          "-f",
          "-",
          "--dbname",
          dbname,
        ],
        { env, stdin: script.stdout, stdout: "ignore", stderr: "pipe" },
      );
      const [scriptErr, applyErr, scriptCode, applyCode] = await Promise.all([
        new Response(script.stderr).text(),
        new Response(apply.stderr).text(),
        script.exited,
        apply.exited,
      ]);
      if (scriptCode !== 0) throw new BackupError(`pg_restore failed: ${lastLines(scriptErr)}; nothing was changed`);
      if (applyCode !== 0) throw new BackupError(`restoring failed: ${lastLines(applyErr)}; nothing was changed`);
      return { previous, tables: await tableRowCounts(database) };
    } finally {
      await database.close();
    }
  } finally {
    opened.cleanup();
  }
}

/** Delete the oldest backups the job wrote beyond `keep`; returns the names deleted. */
export function pruneBackups(dir: string, keep: number): string[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((n) => BACKUP_NAME.test(n))
    .sort()
    .reverse();
  const gone = names.slice(keep);
  for (const n of gone) rmSync(join(dir, n), { force: true });
  return gone;
}

/** How many scheduled backups are kept: the admin's setting, else MEDIANEST_BACKUP_KEEP. */
export async function backupKeep(deps: Pick<AppDeps, "database" | "secretBox" | "config">): Promise<number> {
  const n = Number(await findSetting(deps.database, deps.secretBox, KEEP_SETTING));
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : deps.config.backupKeep;
}

export async function saveBackupKeep(deps: Pick<AppDeps, "database" | "secretBox">, keep: number): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, KEEP_SETTING, String(keep));
}

/** The backups in the backup directory, newest first (the jobs page lists them). */
export function listBackups(config: BackupConfig): { name: string; bytes: number; at: Date }[] {
  const dir = backupDirectory(config);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^medianest-\d{8}-\d{6}.*\.(db|pgdump)(\.age)?$/.test(n))
    .map((name) => {
      const s = statSync(join(dir, name));
      return { name, bytes: s.size, at: s.mtime };
    })
    .sort((a, b) => (a.name < b.name ? 1 : -1));
}

/** The backup job's work: write a backup, delete those beyond the retention, record the metrics. */
export async function scheduledBackup(deps: AppDeps): Promise<string> {
  let result: Awaited<ReturnType<typeof writeBackup>>;
  try {
    result = await writeBackup(deps.config, { database: deps.database.sqlite ? deps.database : undefined });
  } catch (err) {
    if (err instanceof BackupError) throw new Error(`backup: ${err.message}`);
    throw err;
  }
  const keep = await backupKeep(deps);
  const removed = pruneBackups(backupDirectory(deps.config), keep);
  return `${basename(result.file)} written (${result.bytes} bytes${result.encrypted ? ", encrypted" : ""}); ${removed.length} old backups removed, ${keep} kept`;
}

/** The newest scheduled or manual backup in the backup directory (the backup metrics report it). */
export function newestBackup(config: BackupConfig): { at: Date; bytes: number } | undefined {
  const [newest] = listBackups(config).filter((b) => !b.name.includes("before-restore"));
  return newest && { at: newest.at, bytes: newest.bytes };
}
