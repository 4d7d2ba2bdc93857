// The compiled binary, end to end: built once with package.json's build script, then run as users run it.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { startFakeCollector } from "./fakes/otlp-collector";

const ROOT = join(import.meta.dir, "..");
const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string; scripts: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), "medianest-binary-"));
const BIN = join(work, "medianest");
const SECRET_KEY = "k3y-that-must-never-be-printed-0123456789";
const DB_PASSWORD = "pw-that-must-never-be-printed";
const promtool = Bun.which("promtool");
if (!promtool) console.warn("binary.test: promtool not found; the `promtool check metrics` assertion is SKIPPED");

const running = new Set<Bun.Subprocess>();

/** One keep-alive GET over a raw socket: the response head as sent, and whether the server then closed. */
function rawGet(base: string, path: string): Promise<{ head: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let data = "";
    const socket = connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: keep-alive\r\n\r\n`),
    );
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ head: data.split("\r\n\r\n")[0]!, closedByServer: false });
    }, 3000);
    socket.on("data", (d) => (data += d));
    socket.on("error", reject);
    socket.on("end", () => {
      clearTimeout(timer);
      resolve({ head: data.split("\r\n\r\n")[0]!, closedByServer: true });
    });
  });
}

/** Give a port nothing listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Make a fresh data directory under the work dir. */
function newDataDir(name: string): string {
  return mkdtempSync(join(work, `${name}-`));
}

/** Return a clean environment for the binary: nothing from the caller's MEDIANEST_* or DATABASE_URL leaks in. */
function envFor(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? work,
    MEDIANEST_DATA_DIR: dataDir,
    MEDIANEST_PORT: String(port),
    MEDIANEST_HOST: "127.0.0.1",
    MEDIANEST_SHUTDOWN_TIMEOUT: "3",
    ...extra,
  };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command of the binary to completion (cwd is the work dir, so no .env or bunfig.toml is picked up). */
async function run(args: string[], env: Record<string, string>, stdin?: string): Promise<Result> {
  const proc = Bun.spawn([BIN, ...args], {
    cwd: work,
    env,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

interface Server {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  base: string;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then the exit code (or "timeout" after ms). */
  stop(ms?: number): Promise<number | "timeout">;
}

function drain(stream: ReadableStream<Uint8Array>, into: string[]): void {
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
  })();
}

/** Start `serve` and wait until /readyz answers 200; throws with the server's output when it does not. */
async function startServe(dataDir: string, extra: Record<string, string> = {}): Promise<Server> {
  const port = freePort();
  const proc = Bun.spawn([BIN, "serve"], {
    cwd: work,
    env: envFor(dataDir, port, extra),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  const chunks: string[] = [];
  drain(proc.stdout, chunks);
  drain(proc.stderr, chunks);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (true) {
    if (proc.exitCode !== null) throw new Error(`serve exited with ${proc.exitCode}:\n${chunks.join("")}`);
    try {
      const res = await fetch(`${base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`serve did not answer within 15 s:\n${chunks.join("")}`);
    await Bun.sleep(25);
  }
  return {
    proc,
    port,
    base,
    output: () => chunks.join(""),
    async stop(ms = 5000) {
      proc.kill("SIGTERM");
      const code = await Promise.race([proc.exited, Bun.sleep(ms).then(() => "timeout" as const)]);
      running.delete(proc);
      return code;
    },
  };
}

function userNames(dbFile: string): string[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (db.query("SELECT username FROM users ORDER BY username").all() as { username: string }[]).map(
      (r) => r.username,
    );
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // package.json's build script, pointed at a private outfile so parallel runs do not race on dist/.
  const script = pkg.scripts.build!;
  expect(script).toContain("--outfile dist/medianest");
  const argv = script.replace("--outfile dist/medianest", `--outfile ${BIN}`).split(/\s+/);
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`build failed (${code}):\n${stdout}\n${stderr}`);
}, 300_000);

afterAll(async () => {
  for (const proc of running) {
    proc.kill("SIGKILL");
    await proc.exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe("medianest binary", () => {
  test("version prints package.json's version, and says a plain build has no commit or build time", async () => {
    const r = await run(["version"], envFor(work, 8080));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([`medianest ${pkg.version}`, "commit unknown", "built unknown"]);
  });

  test("config prints the effective configuration with secrets masked", async () => {
    const r = await run(
      ["config"],
      envFor(newDataDir("config"), 8080, {
        MEDIANEST_SECRET_KEY: SECRET_KEY,
        DATABASE_URL: `postgres://medianest:${DB_PASSWORD}@db.example:5432/medianest`,
      }),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("MEDIANEST_SECRET_KEY=");
    expect(r.stdout).toContain("DATABASE_URL=postgres://medianest:");
    expect(r.stdout).toContain("db.example");
    expect(r.stdout + r.stderr).not.toContain(SECRET_KEY);
    expect(r.stdout + r.stderr).not.toContain(DB_PASSWORD);
  });

  test("config says which key file encrypts the secrets while MEDIANEST_SECRET_KEY is unset", async () => {
    const dataDir = newDataDir("keyfile");
    const before = await run(["config"], envFor(dataDir, 8080));
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(
      `MEDIANEST_SECRET_KEY=(unset: the first start creates the key file ${join(dataDir, "secret.key")})`,
    );
    writeFileSync(join(dataDir, "secret.key"), "ab".repeat(32) + "\n", { mode: 0o600 });
    const after = await run(["config"], envFor(dataDir, 8080));
    expect(after.stdout).toContain(
      `MEDIANEST_SECRET_KEY=(unset: the key file ${join(dataDir, "secret.key")} is in use)`,
    );
    expect(after.stdout).not.toContain("ab".repeat(32));
  });

  test.each(["serve", "version", "config", "migrate"])(
    "a bad setting stops `%s` with exit 2 and one line naming the variable, no stack trace",
    async (command) => {
      const r = await run([command], { ...envFor(newDataDir("badenv"), 8080), MEDIANEST_PORT: "abc" });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("MEDIANEST_PORT");
      expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
    },
  );

  test("create-admin with MEDIANEST_ADMIN_PASSWORD creates an administrator", async () => {
    const dataDir = newDataDir("admin");
    const r = await run(
      ["create-admin", "Alice"],
      envFor(dataDir, 8080, { MEDIANEST_ADMIN_PASSWORD: "correct horse battery" }),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("alice");
    const db = new Database(join(dataDir, "medianest.db"), { readonly: true });
    const row = db.query("SELECT username, role, status, password_hash AS hash FROM users").get() as Record<
      string,
      string
    > | null;
    db.close();
    expect(row?.username).toBe("alice");
    expect(row?.role).toBe("admin");
    expect(row?.status).toBe("active");
    expect(await Bun.password.verify("correct horse battery", row!.hash!)).toBe(true);
  });

  test("create-admin refuses a short password", async () => {
    const r = await run(
      ["create-admin", "bob"],
      envFor(newDataDir("shortpw"), 8080, { MEDIANEST_ADMIN_PASSWORD: "short" }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("at least 10 characters");
  });

  test("a data directory holding a file that is not SQLite is refused and the file left byte for byte", async () => {
    const dataDir = newDataDir("garbage");
    const file = join(dataDir, "medianest.db");
    const garbage = new Uint8Array(8192);
    crypto.getRandomValues(garbage);
    writeFileSync(file, garbage);
    const r = await run(["serve"], envFor(dataDir, freePort()));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("not a usable SQLite database");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(Buffer.compare(readFileSync(file), Buffer.from(garbage))).toBe(0);
    expect(readdirSync(dataDir).sort()).toEqual(["medianest.db"]);
  });

  test("while PostgreSQL is retried at start, /healthz says alive and /readyz says not ready", async () => {
    const port = freePort();
    const proc = Bun.spawn([BIN, "serve"], {
      cwd: work,
      env: envFor(newDataDir("pg-wait"), port, {
        DATABASE_URL: "postgres://postgres@127.0.0.1:1/x",
        MEDIANEST_DATABASE_CONNECT_TIMEOUT: "3",
      }),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    running.add(proc);
    const base = `http://127.0.0.1:${port}`;
    let readyz: Response | undefined;
    for (let i = 0; i < 200 && !readyz; i++) {
      readyz = await fetch(`${base}/readyz`).catch(() => undefined);
      if (!readyz) await Bun.sleep(10);
    }
    expect(readyz?.status).toBe(503);
    expect(await readyz!.json()).toMatchObject({ ready: false });
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(healthz.headers.get("content-security-policy")).toContain("default-src 'self'");
    const code = await proc.exited;
    running.delete(proc);
    expect(code).not.toBe(0);
    expect(await new Response(proc.stderr).text()).toContain("PostgreSQL");
  });

  test("an unreachable PostgreSQL is retried, then serve exits naming PostgreSQL", async () => {
    const r = await run(
      ["serve"],
      envFor(newDataDir("pg"), freePort(), {
        DATABASE_URL: "postgres://postgres@127.0.0.1:1/x",
        MEDIANEST_DATABASE_CONNECT_TIMEOUT: "1",
      }),
    );
    expect(r.code).not.toBe(0);
    const retries = r.stderr.split("\n").filter((l) => /not reachable .*retrying/.test(l));
    expect(retries.length).toBeGreaterThanOrEqual(1);
    const last = r.stderr.trim().split("\n").at(-1)!;
    expect(last).toContain("PostgreSQL");
    expect(last).toContain("did not answer");
  });
});

describe("medianest serve", () => {
  const dataDir = newDataDir("serve");
  let server: Server;

  beforeAll(async () => {
    server = await startServe(dataDir);
  });

  afterAll(async () => {
    if (server && server.proc.exitCode === null) await server.stop();
  });

  test("answers /healthz and /readyz with 200, and logs the migrations it applied", async () => {
    const healthz = await fetch(`${server.base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok");
    const readyz = await fetch(`${server.base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ ready: true, database: "up", migrations: "current" });
    expect(server.output()).toContain('"msg":"migrations applied"');
    expect(existsSync(join(dataDir, "medianest.pid"))).toBe(true);
  });

  test.skipIf(!promtool)("/metrics passes promtool check metrics", async () => {
    const res = await fetch(`${server.base}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("medianest_build_info");
    const check = Bun.spawn([promtool!, "check", "metrics"], {
      stdin: new TextEncoder().encode(body),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(check.stdout).text(),
      new Response(check.stderr).text(),
      check.exited,
    ]);
    if (code !== 0) console.error(out, err);
    expect(code).toBe(0);
  });

  test("the healthcheck command exits 0 while it runs, and 1 on a port nobody answers", async () => {
    const ok = await run(["healthcheck"], envFor(dataDir, server.port));
    expect(ok.code).toBe(0);
    const down = await run(["healthcheck"], envFor(dataDir, freePort()));
    expect(down.code).toBe(1);
  });

  test("a second serve on a port already in use says so and exits non-zero", async () => {
    const r = await run(["serve"], envFor(newDataDir("busy"), server.port));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`port ${server.port} is already in use`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test("backup works while it runs; restore is refused while it runs", async () => {
    const backupFile = join(work, "online-backup.db");
    const b = await run(["backup", backupFile], envFor(dataDir, server.port));
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);
    expect(existsSync(backupFile)).toBe(true);
    const before = readFileSync(join(dataDir, "medianest.db"));
    const r = await run(["restore", backupFile], envFor(dataDir, server.port));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("is running");
    expect(Buffer.compare(readFileSync(join(dataDir, "medianest.db")), before)).toBe(0);
  });

  test("SIGTERM stops it with exit 0 within a few seconds and removes the pid file", async () => {
    const code = await server.stop(5000);
    expect(code).toBe(0);
    expect(existsSync(join(dataDir, "medianest.pid"))).toBe(false);
    expect(server.output()).toContain('"msg":"stopped"');
  });

  test("with a drain delay, SIGTERM turns /readyz 503 while pages are still served; a second signal ends the wait", async () => {
    const draining = await startServe(newDataDir("drain"), { MEDIANEST_DRAIN_DELAY: "60" });
    try {
      draining.proc.kill("SIGTERM");
      let readyz: Response | undefined;
      for (let i = 0; i < 100; i++) {
        readyz = await fetch(`${draining.base}/readyz`);
        if (readyz.status === 503) break;
        await readyz.arrayBuffer();
        await Bun.sleep(20);
      }
      expect(readyz!.status).toBe(503);
      expect(await readyz!.json()).toEqual({ ready: false, draining: true });
      // The metric reads the same readiness as /readyz.
      const metrics = await (await fetch(`${draining.base}/metrics`)).text();
      expect(metrics).toMatch(/^medianest_ready 0$/m);
      const page = await fetch(`${draining.base}/setup`);
      await page.arrayBuffer();
      expect(page.status).toBe(200);
      // Each answer while draining closes its connection: a proxy keeps none idle for the listener's close.
      const raw = await rawGet(draining.base, "/setup");
      expect(raw.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(raw.head).toMatch(/^connection: close\r$/im);
      expect(raw.closedByServer).toBe(true);
      expect(draining.proc.exitCode).toBeNull();
      expect(await draining.stop(10_000)).toBe(0);
      expect(draining.output()).toContain('"msg":"draining: /readyz answers 503 before the listener closes"');
      expect(draining.output()).toContain('"msg":"stopped"');
    } finally {
      draining.proc.kill("SIGKILL");
    }
  });

  test("in the drain's last second a GET is refused with a 503 (a retrying proxy sends it elsewhere); a POST and the health checks are still served", async () => {
    const draining = await startServe(newDataDir("drain-refuse"), { MEDIANEST_DRAIN_DELAY: "2" });
    try {
      draining.proc.kill("SIGTERM");
      let page: Response | undefined;
      for (let i = 0; i < 200; i++) {
        page = await fetch(`${draining.base}/setup`);
        await page.arrayBuffer();
        if (page.status === 503) break;
        expect(page.status).toBe(200);
        await Bun.sleep(20);
      }
      expect(page!.status).toBe(503);
      expect(page!.headers.get("retry-after")).toBe("1");
      expect((await fetch(`${draining.base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${draining.base}/readyz`)).json()).toEqual({ ready: false, draining: true });
      // A POST is answered by the app itself (here: refused for want of a CSRF token), not by the drain.
      const post = await fetch(`${draining.base}/setup`, { method: "POST", body: new URLSearchParams({}) });
      expect(await post.text()).not.toContain("restarting");
      expect(await draining.stop(10_000)).toBe(0);
    } finally {
      draining.proc.kill("SIGKILL");
    }
  });

  test("with OTEL_EXPORTER_OTLP_ENDPOINT it loads tracing and sends a request's server span, continuing its traceparent", async () => {
    const collector = startFakeCollector();
    const traced = await startServe(newDataDir("traced"), { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    try {
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const page = await fetch(`${traced.base}/setup`, {
        headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      });
      await page.arrayBuffer();
      expect(page.status).toBe(200);
      // SIGTERM sends what the batch still holds before the process ends.
      expect(await traced.stop(10_000)).toBe(0);
      const span = await collector.waitFor((s) => s.traceId === traceId, 5_000);
      expect(span).toMatchObject({
        name: "GET /setup",
        parentSpanId: "b7ad6b7169203331",
        attributes: { "http.route": "/setup", "http.response.status_code": 200 },
        resource: { "service.name": "medianest", "service.version": pkg.version },
      });
      expect(traced.output()).toContain('"msg":"tracing: spans go to the OTLP collector"');
      expect(traced.output()).toContain(`"trace_id":"${traceId}"`);
    } finally {
      traced.proc.kill("SIGKILL");
      await collector.stop();
    }
  });

  test("a second serve on the migrated database applies no migrations", async () => {
    const again = await startServe(dataDir);
    try {
      expect(again.output()).toContain('"msg":"MediaNest is running"');
      expect(again.output()).not.toContain("migrations applied");
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

describe("medianest backup and restore", () => {
  test("round trip: restore brings back the backed-up data and keeps the previous database", async () => {
    const dataDir = newDataDir("roundtrip");
    const env = envFor(dataDir, 8080, { MEDIANEST_ADMIN_PASSWORD: "a long enough password" });
    expect((await run(["create-admin", "alice"], env)).code).toBe(0);
    const backupFile = join(work, "roundtrip-backup.db");
    const b = await run(["backup", backupFile], env);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain(backupFile);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    expect((await run(["create-admin", "bob"], env)).code).toBe(0);
    expect(userNames(join(dataDir, "medianest.db"))).toEqual(["alice", "bob"]);

    const r = await run(["restore", backupFile], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(userNames(join(dataDir, "medianest.db"))).toEqual(["alice"]);
    const kept = readdirSync(dataDir).filter((f) => f.startsWith("medianest.db.before-restore-"));
    expect(kept).toHaveLength(1);
    expect(userNames(join(dataDir, kept[0]!))).toEqual(["alice", "bob"]);

    // The restored database serves.
    const server = await startServe(dataDir);
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
  });

  test("backup without a file name writes into <data dir>/backups", async () => {
    const dataDir = newDataDir("defaultbackup");
    const env = envFor(dataDir, 8080);
    expect((await run(["migrate"], env)).code).toBe(0);
    const b = await run(["backup"], env);
    expect(b.code).toBe(0);
    const files = readdirSync(join(dataDir, "backups")).filter((f) => f.endsWith(".db"));
    expect(files).toHaveLength(1);
    // A backup holds every account: only its owner may read it, like the key file.
    expect(statSync(join(dataDir, "backups", files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "backups")).mode & 0o077).toBe(0);
  });

  test("restore refuses a file that is not a MediaNest database", async () => {
    const dataDir = newDataDir("badrestore");
    const env = envFor(dataDir, 8080);
    expect((await run(["migrate"], env)).code).toBe(0);
    const bogus = join(work, "bogus.db");
    writeFileSync(bogus, "this is not a database");
    const before = readFileSync(join(dataDir, "medianest.db"));
    const r = await run(["restore", bogus], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("restore:");
    expect(Buffer.compare(readFileSync(join(dataDir, "medianest.db")), before)).toBe(0);
  });
});
