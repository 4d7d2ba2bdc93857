// Backups and restores of both databases, end to end: every table's row count comes back as it was backed up.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { restore } from "../src/cli/backup";
import { CliError } from "../src/cli/errors";
import { loadConfig } from "../src/config/config";
import { tableRowCounts } from "../src/db/backup";
import { openPostgres, openSqlite, type Database } from "../src/db/database";
import { knownMigrations } from "../src/db/migrate";
import {
  BACKUP_NAME,
  backupDirectory,
  openBackup,
  pruneBackups,
  restorePostgres,
  saveBackupKeep,
  writeBackup,
} from "../src/services/backups";
import { postgresAvailable } from "./helpers/services";
import { createTestApp, givenUser, signIn, type Dialect, type TestApp } from "./helpers/test-app";

const havePgTools = Boolean(Bun.which("pg_dump") && Bun.which("pg_restore") && Bun.which("psql"));
if (!havePgTools) console.warn("backups: pg_dump, pg_restore or psql missing; PostgreSQL backup tests are SKIPPED");
const AGE_HEADER = "age-encryption.org/v1\n";

let apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps) await t.close();
  apps = [];
});

async function app(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp({ dialect, env, logLines: [] });
  apps.push(t);
  return t;
}

/** Rows in several tables: users, sessions, settings, audit and job runs. */
async function seed(t: TestApp, users: number): Promise<void> {
  for (let i = 0; i < users; i++) {
    const u = await givenUser(t.deps, { role: i === 0 ? "admin" : "user" });
    await signIn(t, u);
  }
  await saveBackupKeep(t.deps, 3);
  expect(await t.deps.jobs.runNow("session-cleanup")).toBe("ok");
}

function nonEmpty(counts: Record<string, number>): string[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name]) => name)
    .sort();
}

async function counts(database: Database): Promise<Record<string, number>> {
  return tableRowCounts(database);
}

const ageKeyFile = async (dir: string, withSecret: boolean) => {
  const identity = await generateIdentity();
  const path = join(dir, withSecret ? "backup.key" : "backup.pub");
  writeFileSync(path, withSecret ? `# created: now\n${identity}\n` : `${await identityToRecipient(identity)}\n`, {
    mode: 0o600,
  });
  return { path, identity };
};

describe("SQLite", () => {
  test("backup, change, restore: every table's rows are as backed up; the file is 0600", async () => {
    const t = await app("sqlite");
    await seed(t, 3);
    const before = await counts(t.deps.database);
    expect(nonEmpty(before)).toEqual(expect.arrayContaining(["job_runs", "sessions", "settings", "users"]));
    const { file, encrypted } = await writeBackup(t.config, { database: t.deps.database });
    expect(encrypted).toBe(false);
    expect(BACKUP_NAME.test(file.split("/").at(-1)!)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await seed(t, 2);
    expect((await counts(t.deps.database)).users).toBe(before.users! + 2);
    await t.deps.database.close();

    const r = await restore(t.config, file);
    expect(r.previous).toBeDefined();
    const reopened = openSqlite(r.restored);
    try {
      expect(await counts(reopened)).toEqual(before);
    } finally {
      await reopened.close();
    }
  });

  test("a passphrase encrypts the backup (age format); restore decrypts it, and refuses without the passphrase", async () => {
    const t = await app("sqlite", { MEDIANEST_BACKUP_PASSPHRASE: "correct horse battery staple" });
    await seed(t, 2);
    const before = await counts(t.deps.database);
    const { file, encrypted } = await writeBackup(t.config, { database: t.deps.database });
    expect(encrypted).toBe(true);
    expect(file.endsWith(".db.age")).toBe(true);
    expect(await Bun.file(file).slice(0, AGE_HEADER.length).text()).toBe(AGE_HEADER);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // No plain copy is left beside it.
    expect(readdirSync(backupDirectory(t.config))).toEqual([file.split("/").at(-1)!]);
    await seed(t, 1);
    await t.deps.database.close();

    const noKey = loadConfig({ MEDIANEST_DATA_DIR: t.config.dataDir });
    await expect(restore(noKey, file)).rejects.toThrow("is encrypted; set MEDIANEST_BACKUP_PASSPHRASE");
    const wrong = loadConfig({
      MEDIANEST_DATA_DIR: t.config.dataDir,
      MEDIANEST_BACKUP_PASSPHRASE: "not the passphrase",
    });
    await expect(restore(wrong, file)).rejects.toThrow("cannot be decrypted with the configured key");

    const r = await restore(t.config, file);
    const reopened = openSqlite(r.restored);
    try {
      expect(await counts(reopened)).toEqual(before);
    } finally {
      await reopened.close();
    }
  });

  test("a key file holding only the recipient encrypts; restoring needs the secret key", async () => {
    const t = await app("sqlite");
    const pub = await ageKeyFile(t.config.dataDir, false);
    const config = { ...t.config, backupKeyFile: pub.path };
    const { file } = await writeBackup(config, { database: t.deps.database });
    await expect(openBackup(config, file)).rejects.toThrow("holds only a recipient");
    const secret = join(t.config.dataDir, "backup.key");
    writeFileSync(secret, `${pub.identity}\n`, { mode: 0o600 });
    const opened = await openBackup({ ...t.config, backupKeyFile: secret }, file);
    try {
      expect(opened.encrypted).toBe(true);
      expect(await Bun.file(opened.path).slice(0, 15).text()).toBe("SQLite format 3");
      expect(statSync(opened.path).mode & 0o777).toBe(0o600);
    } finally {
      opened.cleanup();
    }
    expect(existsSync(opened.path)).toBe(false);
  });

  test("a passphrase and a key file together are refused", async () => {
    const t = await app("sqlite", { MEDIANEST_BACKUP_PASSPHRASE: "correct horse battery staple" });
    const key = await ageKeyFile(t.config.dataDir, true);
    await expect(writeBackup({ ...t.config, backupKeyFile: key.path }, { database: t.deps.database })).rejects.toThrow(
      "not both",
    );
  });
});

describe("the backup job", () => {
  test("writes a backup, keeps the number set on the jobs page, and shows on the jobs page and in the metrics", async () => {
    const t = await app("sqlite", { MEDIANEST_BACKUP_KEEP: "5" });
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    const dir = backupDirectory(t.config);
    // Older scheduled backups, and a file the job did not write (never deleted).
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    for (const day of ["01", "02", "03", "04"]) writeFileSync(join(dir, `medianest-202601${day}-031700.db`), "old");
    writeFileSync(join(dir, "keep-me.db"), "mine");

    const page = await (await admin.get("/admin/jobs")).text();
    expect(page).toContain("Back up the database");
    expect(page).toMatch(/name="keep"[^>]*value="5"/);
    const bad = await admin.post("/admin/backups/keep", { keep: "0" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("at least 1");
    const saved = await admin.post("/admin/backups/keep", { keep: "2" });
    expect(saved.status).toBe(303);

    expect(await t.deps.jobs.runNow("backup")).toBe("ok");
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(3);
    expect(left).toContain("keep-me.db");
    expect(left).toContain("medianest-20260104-031700.db");
    const fresh = left.find((n) => BACKUP_NAME.test(n) && !n.startsWith("medianest-2026010"));
    expect(fresh).toBeDefined();
    expect(statSync(join(dir, fresh!)).mode & 0o777).toBe(0o600);

    const after = await (await admin.get("/admin/jobs")).text();
    expect(after).toContain(fresh!);
    expect(after).toMatch(/name="keep"[^>]*value="2"/);

    const metrics = await (await t.request("/metrics")).text();
    const at = Number(metrics.match(/^medianest_backup_last_success_timestamp_seconds (\S+)$/m)?.[1]);
    expect(Math.abs(at - Date.now() / 1000)).toBeLessThan(3600);
    expect(metrics).toMatch(/^medianest_backup_size_bytes [1-9]\d*$/m);
    expect(metrics).toContain('medianest_job_runs_total{job="backup",outcome="ok"} 1');
    expect(metrics).toContain('medianest_job_last_run_failed{job="backup"} 0');
    expect(metrics).toMatch(/^medianest_job_last_finished_timestamp_seconds\{job="backup"\} \d/m);
    expect(metrics).toMatch(/^medianest_download_items\{status="queued"\} 0$/m);
  });

  test("MEDIANEST_BACKUP_SCHEDULE=off leaves the job out", async () => {
    const t = await app("sqlite", { MEDIANEST_BACKUP_SCHEDULE: "off" });
    expect(t.deps.jobs.has("backup")).toBe(false);
  });

  test("retention deletes only the job's own files beyond the number kept", () => {
    const dir = join(require("node:os").tmpdir(), `medianest-prune-${Date.now()}`);
    require("node:fs").mkdirSync(dir);
    for (const n of ["medianest-20260101-000000.db", "medianest-20260102-000000.pgdump.age", "other.db"])
      writeFileSync(join(dir, n), "x");
    expect(pruneBackups(dir, 1)).toEqual(["medianest-20260101-000000.db"]);
    expect(readdirSync(dir).sort()).toEqual(["medianest-20260102-000000.pgdump.age", "other.db"]);
  });
});

describe.skipIf(!postgresAvailable || !havePgTools)("PostgreSQL", () => {
  const known = knownMigrations({ dialect: "postgres" } as never).length;

  test("pg_dump, change, pg_restore: refused while connected, then every table's rows are as backed up", async () => {
    const t = await app("postgres");
    await seed(t, 3);
    const before = await counts(t.deps.database);
    expect(nonEmpty(before)).toEqual(expect.arrayContaining(["job_runs", "sessions", "settings", "users"]));
    const { file } = await writeBackup(t.config);
    expect(file.endsWith(".pgdump")).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await seed(t, 2);
    const changed = await counts(t.deps.database);
    expect(changed.users).toBe(before.users! + 2);

    // The test app is still connected, as a replica would be.
    await expect(restorePostgres(t.config, file, { knownMigrations: known })).rejects.toThrow(
      /other connections? (is|are) open on this database .*stop every MediaNest replica first.*--force/,
    );
    expect(await counts(t.deps.database)).toEqual(changed);
    await t.deps.database.close();

    const r = await restorePostgres(t.config, file, { knownMigrations: known });
    expect(r.tables).toEqual(before);
    expect(r.previous.endsWith("-before-restore.pgdump")).toBe(true);
    expect(statSync(r.previous).mode & 0o777).toBe(0o600);
    const check = await openPostgres(t.config.databaseUrl!, { timeoutMs: 5000, max: 1 });
    try {
      expect(await counts(check)).toEqual(before);
    } finally {
      await check.close();
    }
  });

  test("--force restores while others are connected; an encrypted dump (key file) restores", async () => {
    const t = await app("postgres");
    const key = await ageKeyFile(t.config.dataDir, true);
    const config = { ...t.config, backupKeyFile: key.path };
    await seed(t, 2);
    const before = await counts(t.deps.database);
    const { file, encrypted } = await writeBackup(config);
    expect(encrypted).toBe(true);
    expect(file.endsWith(".pgdump.age")).toBe(true);
    expect(await Bun.file(file).slice(0, AGE_HEADER.length).text()).toBe(AGE_HEADER);
    await seed(t, 1);
    // Other sessions stay idle; the restore runs in one transaction beside them.
    const r = await restorePostgres(config, file, { knownMigrations: known, force: true });
    expect(r.tables).toEqual(before);
  });

  test("restore refuses a file that is not a MediaNest dump, and changes nothing", async () => {
    const t = await app("postgres");
    await t.deps.database.close();
    const bogus = join(t.config.dataDir, "bogus.pgdump");
    writeFileSync(bogus, "not a dump");
    await expect(restorePostgres(t.config, bogus, { knownMigrations: known })).rejects.toThrow(
      "is not a PostgreSQL backup",
    );
    const err = await restore(t.config, bogus).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toStartWith("restore: ");
  });

  test("without pg_dump on PATH, backup says what to install", async () => {
    const t = await app("postgres");
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(writeBackup(t.config)).rejects.toThrow(
        "pg_dump was not found on PATH; install the PostgreSQL client",
      );
    } finally {
      process.env.PATH = path;
    }
  });
});
