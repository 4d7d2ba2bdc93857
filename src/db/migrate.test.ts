import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { createTempPostgres, postgresAvailable } from "../../test/helpers/services";
import { DatabaseError, openPostgres, openSqlite, type Database } from "./database";
import { assertSchemaCurrent, knownMigrations, migrate, schemaStatus } from "./migrate";
import * as sqliteSchema from "./schema/sqlite";

type Dialect = "sqlite" | "postgres";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "medianest-migrate-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Run raw SQL on either dialect and return the rows. */
async function raw(database: Database, query: string): Promise<Record<string, unknown>[]> {
  if (database.sqlite) return database.sqlite.query(query).all() as Record<string, unknown>[];
  return [...(await database.pg!.unsafe(query))];
}

async function tableNames(database: Database): Promise<string[]> {
  const rows =
    database.dialect === "sqlite"
      ? await raw(database, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await raw(database, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'");
  return rows.map((r) => String(r.name)).sort();
}

async function migrationRows(database: Database): Promise<{ idx: number; tag: string }[]> {
  const rows = await raw(database, "SELECT idx, tag FROM medianest_migrations ORDER BY idx");
  return rows.map((r) => ({ idx: Number(r.idx), tag: String(r.tag) }));
}

// Every table the schema declares; both schemas declare the same ones (schema.test.ts).
const APP_TABLES = Object.values(sqliteSchema)
  .filter((v) => is(v, SQLiteTable))
  .map((v) => getTableName(v as SQLiteTable));

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable)(`migrate on ${dialect}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c().catch((err) => console.warn(`cleanup failed: ${err}`));
    });

    /** A new empty database and a way to open connections to it; every connection is closed in afterAll. */
    async function freshDatabase(): Promise<{ open(): Promise<Database> }> {
      let open: () => Promise<Database>;
      if (dialect === "sqlite") {
        const file = join(tempDir(), "medianest.db");
        open = async () => openSqlite(file);
      } else {
        const pg = await createTempPostgres();
        cleanups.push(() => pg.drop());
        open = () => openPostgres(pg.url, { timeoutMs: 5000, max: 4 });
      }
      return {
        async open() {
          const database = await open();
          let closed = false;
          cleanups.push(async () => {
            if (!closed) await database.close();
          });
          const close = database.close.bind(database);
          database.close = async () => {
            closed = true;
            await close();
          };
          return database;
        },
      };
    }

    test("a fresh database gets every migration, recorded in order", async () => {
      const database = await (await freshDatabase()).open();
      const known = knownMigrations(database);
      expect(known.length).toBeGreaterThan(0);
      expect(await schemaStatus(database)).toEqual({ applied: 0, known: known.length });

      const applied = await migrate(database);

      expect(applied).toEqual(known.map((m) => m.tag));
      expect(await schemaStatus(database)).toEqual({ applied: known.length, known: known.length });
      expect(await migrationRows(database)).toEqual(known.map((m, idx) => ({ idx, tag: m.tag })));
      expect(APP_TABLES).toContain("users");
      expect(await tableNames(database)).toEqual([...APP_TABLES, "medianest_migrations"].sort());
      await assertSchemaCurrent(database);
    });

    test("a second migrate applies nothing, on the same or a new connection", async () => {
      const db = await freshDatabase();
      const first = await db.open();
      await migrate(first);
      const rowsBefore = await migrationRows(first);

      expect(await migrate(first)).toEqual([]);
      const second = await db.open();
      expect(await migrate(second)).toEqual([]);

      expect(await migrationRows(second)).toEqual(rowsBefore);
      expect(await schemaStatus(second)).toEqual({ applied: rowsBefore.length, known: knownMigrations(second).length });
    });

    test("a database newer than this binary is refused and left as it was", async () => {
      const database = await (await freshDatabase()).open();
      await migrate(database);
      const known = knownMigrations(database).length;
      await raw(
        database,
        database.dialect === "sqlite"
          ? `INSERT INTO medianest_migrations (idx, tag, applied_at) VALUES (${known}, '9999_from_the_future', 0)`
          : `INSERT INTO medianest_migrations (idx, tag) VALUES (${known}, '9999_from_the_future')`,
      );
      await raw(database, "CREATE TABLE future_things (id text PRIMARY KEY)");
      const tablesBefore = await tableNames(database);
      const rowsBefore = await migrationRows(database);

      const err = await migrate(database).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as Error).message).toContain("newer than this binary");
      expect((err as Error).message).toContain(`schema version ${known + 1}`);
      expect(await tableNames(database)).toEqual(tablesBefore);
      expect(await migrationRows(database)).toEqual(rowsBefore);
      expect(await schemaStatus(database)).toEqual({ applied: known + 1, known });
      expect(assertSchemaCurrent(database)).rejects.toThrow("newer than this binary");
    });

    test("0004 ties Plex tokens saved before it to the server configured then", async () => {
      const database = await (await freshDatabase()).open();
      const known = knownMigrations(database);
      const upTo = known.findIndex((m) => m.tag === "0004_plex_token_server");
      expect(upTo).toBeGreaterThan(0);
      // The database as the version before 0003 left it.
      await raw(
        database,
        "CREATE TABLE medianest_migrations (idx integer PRIMARY KEY, tag text NOT NULL, applied_at bigint NOT NULL DEFAULT 0)",
      );
      for (const [idx, m] of known.slice(0, upTo).entries()) {
        for (const stmt of m.sql.split("--> statement-breakpoint").filter((s) => s.trim())) await raw(database, stmt);
        await raw(database, `INSERT INTO medianest_migrations (idx, tag) VALUES (${idx}, '${m.tag}')`);
      }
      const secret = database.dialect === "sqlite" ? "0" : "false";
      await raw(
        database,
        `INSERT INTO settings (key, value, secret, updated_at) VALUES ('plex.machine_identifier', 'machine-1', ${secret}, ${database.dialect === "sqlite" ? "0" : "now()"})`,
      );
      for (const [id, token] of [
        ["with-token", "'sealed'"],
        ["without-token", "NULL"],
      ]) {
        const now = database.dialect === "sqlite" ? "0" : "now()";
        const permissions = database.dialect === "sqlite" ? "'[]'" : "'[]'::jsonb";
        await raw(
          database,
          `INSERT INTO users (id, username, display_name, role, status, plex_token_enc, permissions, created_at, updated_at) VALUES ('${id}', '${id}', '${id}', 'user', 'active', ${token}, ${permissions}, ${now}, ${now})`,
        );
      }

      expect((await migrate(database))[0]).toBe("0004_plex_token_server");

      const rows = await raw(database, "SELECT id, plex_token_server FROM users ORDER BY id");
      expect(rows.map((r) => [r.id, r.plex_token_server])).toEqual([
        ["with-token", "machine-1"],
        ["without-token", null],
      ]);
    });

    test("two connections migrating at once apply each migration exactly once", async () => {
      const db = await freshDatabase();
      const a = await db.open();
      const b = await db.open();
      const known = knownMigrations(a).map((m) => m.tag);

      const results = await Promise.all([migrate(a), migrate(b)]);

      expect(results.flat().sort()).toEqual([...known].sort());
      expect(results.some((r) => r.length === 0)).toBe(true);
      expect((await migrationRows(a)).length).toBe(known.length);
      expect(await schemaStatus(b)).toEqual({ applied: known.length, known: known.length });
    });

    if (dialect === "postgres") {
      test("four pools migrating at once serialise on the advisory lock", async () => {
        const db = await freshDatabase();
        const pools = await Promise.all([db.open(), db.open(), db.open(), db.open()]);
        const known = knownMigrations(pools[0]!).map((m) => m.tag);

        const results = await Promise.all(pools.map((p) => migrate(p)));

        expect(results.flat().sort()).toEqual([...known].sort());
        expect((await migrationRows(pools[0]!)).length).toBe(known.length);
        // The lock is released: a later migrate does not hang.
        expect(await migrate(pools[1]!)).toEqual([]);
      });
    }
  });
}

describe("migrate on sqlite across processes", () => {
  test("four processes opening and migrating one new file together apply each migration once", async () => {
    const dir = tempDir();
    const file = join(dir, "medianest.db");
    const go = join(dir, "go");
    const script = join(dir, "child.ts");
    writeFileSync(
      script,
      `import { existsSync } from "node:fs";
import { openSqlite } from ${JSON.stringify(join(import.meta.dir, "database.ts"))};
import { migrate } from ${JSON.stringify(join(import.meta.dir, "migrate.ts"))};
const db = openSqlite(process.argv[2]);
console.log("ready");
while (!existsSync(process.argv[3])) await Bun.sleep(5);
try {
  console.log(JSON.stringify({ applied: await migrate(db) }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err) }));
} finally {
  await db.close();
}
`,
    );
    const children = Array.from({ length: 4 }, () =>
      Bun.spawn([process.execPath, script, file, go], { stdout: "pipe", stderr: "pipe" }),
    );
    // Wait until every child has its connection open, then release them together.
    const readers = children.map((c) => c.stdout.getReader());
    const firstChunks = await Promise.all(readers.map((r) => r.read()));
    for (const chunk of firstChunks) expect(new TextDecoder().decode(chunk.value)).toContain("ready");
    writeFileSync(go, "");
    const outputs = await Promise.all(
      children.map(async (c, i) => {
        let text = new TextDecoder().decode(firstChunks[i]!.value);
        for (;;) {
          const { value, done } = await readers[i]!.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        const code = await c.exited;
        const stderr = await new Response(c.stderr).text();
        expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
        return JSON.parse(text.split("\n").filter((l) => l.startsWith("{"))[0]!) as {
          applied?: string[];
          error?: string;
        };
      }),
    );

    expect(outputs.filter((o) => o.error)).toEqual([]);
    const database = openSqlite(file);
    try {
      const known = knownMigrations(database).map((m) => m.tag);
      expect(outputs.flatMap((o) => o.applied!).sort()).toEqual([...known].sort());
      expect(await migrationRows(database)).toEqual(known.map((tag, idx) => ({ idx, tag })));
    } finally {
      await database.close();
    }
  });
});

describe("openSqlite", () => {
  test("applies the pragmas: WAL, NORMAL sync, foreign keys, 5 s busy timeout", async () => {
    const database = openSqlite(join(tempDir(), "medianest.db"));
    try {
      const pragma = (name: string) => (database.sqlite!.query(`PRAGMA ${name}`).values()[0] ?? [])[0];
      expect(pragma("journal_mode")).toBe("wal");
      expect(pragma("foreign_keys")).toBe(1);
      expect(pragma("synchronous")).toBe(1);
      expect(pragma("busy_timeout")).toBe(5000);
    } finally {
      await database.close();
    }
  });

  test("releaseMemory gives back the page cache and leaves the database open, its rows and pragmas as they were", async () => {
    const database = openSqlite(join(tempDir(), "medianest.db"));
    try {
      const sqlite = database.sqlite!;
      sqlite.exec("CREATE TABLE t (v TEXT)");
      sqlite.query("INSERT INTO t VALUES (?)").run("kept");
      database.releaseMemory();
      expect(sqlite.query("SELECT v FROM t").values()).toEqual([["kept"]]);
      expect((sqlite.query("PRAGMA foreign_keys").values()[0] ?? [])[0]).toBe(1);
      sqlite.close();
      // A closed handle has nothing to give back; the call does not throw.
      expect(() => database.releaseMemory()).not.toThrow();
    } finally {
      await database.close().catch(() => {});
    }
  });

  test("the database and its -wal and -shm files are readable by their owner only (0600), an older 0644 one too", async () => {
    const file = join(tempDir(), "medianest.db");
    const mode = (f: string) => statSync(f).mode & 0o777;
    let database = openSqlite(file);
    try {
      await migrate(database);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
    } finally {
      await database.close();
    }
    chmodSync(file, 0o644);
    database = openSqlite(file);
    try {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
    } finally {
      await database.close();
    }
  });

  test("refuses a file of garbage with a clear message and leaves its bytes alone", () => {
    const dir = tempDir();
    const file = join(dir, "medianest.db");
    const garbage = Buffer.from("these are holiday photos, not a database\n".repeat(200));
    writeFileSync(file, garbage);

    let err: unknown;
    try {
      openSqlite(file);
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toContain("not a usable SQLite database");
    expect((err as Error).message).toContain(file);
    expect(Buffer.compare(readFileSync(file), garbage)).toBe(0);
    expect(readdirSync(dir)).toEqual(["medianest.db"]);
  });

  test("refuses a damaged database (integrity check) and leaves its bytes alone", async () => {
    const dir = tempDir();
    const file = join(dir, "medianest.db");
    const database = openSqlite(file);
    await migrate(database);
    const insert = database.sqlite!.query("INSERT INTO settings (key, value, secret, updated_at) VALUES (?, ?, 0, 0)");
    for (let i = 0; i < 300; i++) insert.run(`key${i}`, "x".repeat(200));
    await database.close();
    const damaged = readFileSync(file);
    damaged.fill(0x41, 8192, 40_000);
    writeFileSync(file, damaged);

    expect(() => openSqlite(file)).toThrow(/not a usable SQLite database \(integrity check failed/);
    expect(Buffer.compare(readFileSync(file), damaged)).toBe(0);
  });

  test("opens a new database in a directory it creates", async () => {
    const file = join(tempDir(), "nested", "deeper", "medianest.db");
    const database = openSqlite(file);
    await database.close();
    expect(existsSync(file)).toBe(true);
  });

  // chmod does not stop root; then the case runs in a child process as nobody when setpriv exists.
  const probeDir = tempDir();
  chmodSync(probeDir, 0o555);
  let chmodBinds = false;
  try {
    writeFileSync(join(probeDir, "probe"), "");
  } catch {
    chmodBinds = true;
  }
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
  const canDropPrivileges = !chmodBinds && setpriv !== undefined && process.getuid?.() === 0;
  if (!chmodBinds && !canDropPrivileges) {
    console.warn(
      "migrate.test: running as root without setpriv, chmod 0555 does not stop writes; the read-only directory case is SKIPPED",
    );
  }

  /** Try openSqlite(path), as nobody when running as root; return the error message or "opened". */
  function openAsUnprivileged(path: string): string {
    if (chmodBinds) {
      try {
        openSqlite(path).close();
        return "opened";
      } catch (err) {
        return `${(err as Error).constructor.name}: ${(err as Error).message}`;
      }
    }
    const script = join(tempDir(), "open.ts");
    writeFileSync(
      script,
      `import { openSqlite } from ${JSON.stringify(join(import.meta.dir, "database.ts"))};
try { openSqlite(process.argv[2]); console.log("opened"); }
catch (err) { console.log(err.constructor.name + ": " + err.message); }
`,
    );
    chmodSync(join(script, ".."), 0o755);
    chmodSync(script, 0o644);
    const proc = Bun.spawnSync(
      [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, script, path],
      {
        env: { ...process.env, HOME: tmpdir() },
      },
    );
    expect(proc.stderr.toString()).toBe("");
    return proc.stdout.toString().trim();
  }

  test.skipIf(!chmodBinds && !canDropPrivileges)(
    "refuses a read-only data directory, naming the path and permissions",
    () => {
      const dir = tempDir();
      chmodSync(dir, 0o555);
      const file = join(dir, "medianest.db");

      const result = openAsUnprivileged(file);

      expect(result).toStartWith("DatabaseError: db: ");
      expect(result).toContain(file);
      expect(result).toContain("not writable");
      expect(result).toContain("permissions");
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  test.skipIf(!chmodBinds && !canDropPrivileges)(
    "refuses an existing database in a read-only directory (WAL needs its side files)",
    async () => {
      const dir = tempDir();
      chmodSync(dir, 0o755);
      const file = join(dir, "medianest.db");
      const database = openSqlite(file);
      await migrate(database);
      await database.close();
      const before = readFileSync(file);
      chmodSync(file, 0o666);
      chmodSync(dir, 0o555);

      const result = openAsUnprivileged(file);

      expect(result).toStartWith("DatabaseError: db: ");
      expect(result).toContain("not writable");
      expect(Buffer.compare(readFileSync(file), before)).toBe(0);
    },
  );
});

describe("openPostgres", () => {
  test("gives up on a closed port after the timeout, naming PostgreSQL and logging each retry", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    const lines: string[] = [];
    const started = performance.now();

    const err = await openPostgres(`postgres://medianest:hunter2@127.0.0.1:${port}/medianest`, {
      timeoutMs: 1500,
      log: (l) => lines.push(l),
    }).catch((e: unknown) => e);

    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toContain("PostgreSQL");
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain("hunter2");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line).toMatch(/PostgreSQL .* not reachable \(attempt \d+: .*\); retrying in \d+ ms/);
      expect(line).not.toContain("hunter2");
    }
    // It keeps trying for the whole timeout, not just until the next back-off step would pass it.
    expect(elapsed).toBeGreaterThanOrEqual(1450);
    expect(elapsed).toBeLessThan(5000);
  });
});
