// Cluster mode when things go away: a replica killed mid-download, replicas restarted one at a time under load,
// Redis killed, PostgreSQL restarted. The compiled binary as three replicas behind a real nginx, as in
// cluster.test.ts; Redis and PostgreSQL are private to the test where a test kills them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretBox, loadMasterKey } from "../../src/config/secret-box";
import { openPostgres } from "../../src/db/database";
import { saveDownloadSettings } from "../../src/services/download-settings";
import { workDirFor } from "../../src/services/download-worker";
import { saveLibraries } from "../../src/services/integrations";
import { startMediaSite, type MediaSite } from "../fakes/media-site";
import { createTempPostgres, postgresAvailable, REDIS_TEST_URL, redisAvailable } from "../helpers/services";
import {
  buildBinary,
  Cluster,
  HttpClient,
  NGINX,
  PG_BIN,
  PrivatePostgres,
  PrivateRedis,
  REDIS_SERVER,
  runBinary,
  SECRET_KEY,
  SseStream,
  until,
  workDir,
} from "./harness";

const inCI = process.env.CI === "true";
const parts: [string, boolean][] = [
  ["nginx (Debian package nginx-light)", Boolean(NGINX)],
  ["PostgreSQL", postgresAvailable],
  ["Redis", redisAvailable],
  ["redis-server", Boolean(REDIS_SERVER)],
  ["PostgreSQL server binaries (initdb, pg_ctl)", Boolean(PG_BIN)],
  ["yt-dlp", Bun.which("yt-dlp") !== null],
  ["ffmpeg", Bun.which("ffmpeg") !== null],
];
const missing = parts.filter(([, ok]) => !ok).map(([name]) => name);
if (missing.length) {
  if (inCI) throw new Error(`cluster failover suite: missing ${missing.join(", ")}`);
  console.warn(`failover.test: missing ${missing.join(", ")}; the cluster failover suite is SKIPPED`);
}
const ready = missing.length === 0;
const PASSWORD = "correct-horse-battery";

const work = workDir("cluster-failover");
let bin: string;
beforeAll(async () => {
  if (ready) bin = await buildBinary(work.dir);
}, 120_000);
afterAll(() => work.remove());

/** Make the first administrator with the binary's own command (it migrates the database too). */
async function createOwner(cluster: Cluster): Promise<void> {
  const made = await runBinary(bin, ["create-admin", "owner"], {
    ...cluster.env,
    MEDIANEST_DATA_DIR: work.dir,
    MEDIANEST_ADMIN_PASSWORD: PASSWORD,
  });
  if (made.code !== 0) throw new Error(`create-admin failed: ${made.stdout}${made.stderr}`);
}

/** Requests through nginx in a loop until stopped; every answer and every failure is kept. */
function requestLoop(workers: number, send: (i: number) => Promise<Response>) {
  const results: { status: number; body?: string; error?: string }[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      try {
        const res = await send(i * workers + w);
        const body = await res.text();
        results.push({ status: res.status, body: res.status >= 400 ? body : undefined });
      } catch (err) {
        results.push({ status: 0, error: (err as Error).message });
      }
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

describe.skipIf(!ready)("replicas restarted and killed", () => {
  let pg: Awaited<ReturnType<typeof createTempPostgres>>;
  let cluster: Cluster;
  let admin: HttpClient;
  let site: MediaSite;
  let sql: import("postgres").Sql;
  const library = () => join(work.dir, "library");

  beforeAll(async () => {
    pg = await createTempPostgres();
    site = await startMediaSite();
    cluster = new Cluster({
      bin,
      work: work.dir,
      databaseUrl: pg.url,
      redisUrl: REDIS_TEST_URL,
      env: {
        // Above nginx's keepalive_timeout (UPSTREAM_KEEPALIVE_S), so nginx lets go of its idle connections first.
        MEDIANEST_DRAIN_DELAY: "2",
        MEDIANEST_DOWNLOAD_LEASE: "3",
        MEDIANEST_JOB_SCHEDULES: "download-queue=* * * * * *",
      },
    });
    await createOwner(cluster);
    // Downloads from the fake site into a library folder, set as an admin would on the settings pages.
    const database = await openPostgres(pg.url, { timeoutMs: 5000, max: 2 });
    const secretBox = createSecretBox(loadMasterKey(work.dir, SECRET_KEY));
    await saveLibraries({ database, secretBox }, [
      { sectionKey: "7", title: "YouTube", type: "movie", folder: library() },
    ]);
    mkdirSync(library());
    await saveDownloadSettings({ database, secretBox }, { allowedHosts: [site.host], minFreeBytes: 0, workers: 1 });
    await database.close();
    const { default: postgres } = await import("postgres");
    sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    await cluster.start();
    admin = new HttpClient(cluster.url);
    expect((await admin.signIn("owner", PASSWORD)).status).toBe(303);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await sql?.end();
    await site?.stop();
    await pg?.drop();
  });

  test("restarting the replicas one at a time under a steady request loop through nginx fails no request", async () => {
    await (await admin.get("/admin")).arrayBuffer();
    // Heavy load: with fewer loops a lost request is rarer, not impossible.
    const loop = requestLoop(24, (i) =>
      i % 5 === 4
        ? admin.post("/admin/notice", { text: `Rolling restart ${i}`, action: "post" })
        : admin.get(i % 2 ? "/" : "/account"),
    );
    const drained: boolean[] = [];
    try {
      await Bun.sleep(500);
      for (const r of cluster.replicas) {
        const pid = r.proc!.pid;
        r.proc!.kill("SIGTERM");
        // While it drains /readyz says so, and the listener still answers.
        const seen = await until(`${r.name} to report draining`, async () => {
          const res = await r.readyz();
          return res.status === 503 && res.body.draining === true;
        }).catch(() => false);
        drained.push(seen);
        await r.proc!.exited;
        expect({ name: r.name, pid, code: r.proc!.exitCode }).toEqual({ name: r.name, pid, code: 0 });
        await r.start();
        await Bun.sleep(300);
      }
      await Bun.sleep(500);
    } finally {
      await loop.stop();
    }
    expect(drained).toEqual([true, true, true]);
    const failed = loop.results.filter((r) => r.status !== 200 && r.status !== 303);
    expect(failed).toEqual([]);
    expect(loop.results.length).toBeGreaterThan(50);
  }, 120_000);

  test("a download claimed by a replica that is then SIGKILLed is finished by another, exactly once", async () => {
    site.setRate(16 * 1024);
    const url = `${site.url}/slow.html`;
    await (await admin.get("/downloads")).arrayBuffer();
    const preview = await admin.post("/downloads", { step: "preview", url });
    expect(preview.status).toBe(200);
    await preview.arrayBuffer();
    const confirm = await admin.post("/downloads", { url, quality: "best", sectionKey: "7" });
    const confirmText = await confirm.text();
    expect({
      status: confirm.status,
      text: confirm.status === 303 ? "" : confirmText.replace(/<[^>]+>/g, " "),
    }).toEqual({ status: 303, text: "" });
    const [download] = await sql`select id from downloads where url = ${url}`;
    expect(download).toBeDefined();
    // Wait until a replica is well into it, then kill that replica.
    const item = await until("a replica to be downloading", async () => {
      const [i] = await sql`select id, worker_pgid from download_items where download_id = ${download!.id}`;
      const dir = i && workDirFor(library(), i.id);
      const part = dir && existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith(".part")) : undefined;
      return i?.worker_pgid && part && Bun.file(join(dir!, part)).size > 30_000 ? i : undefined;
    });
    // yt-dlp leads its own process group; its parent is the replica that claimed the item.
    const parent = Number(readFileSync(`/proc/${item.worker_pgid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    const claimer = cluster.replicas.find((r) => r.proc?.pid === parent)!;
    expect(claimer).toBeDefined();
    await claimer.kill("SIGKILL");
    site.setRate(20 * 1024 * 1024);
    const before = site.requests.length;
    const done = await until(
      "another replica to finish it",
      async () => {
        const [d] = await sql`select status from downloads where id = ${download!.id}`;
        return d && ["completed", "failed", "cancelled"].includes(d.status) ? d : undefined;
      },
      60_000,
    );
    expect(done.status).toBe("completed");
    const [after] = await sql`select attempts, file_path from download_items where download_id = ${download!.id}`;
    expect(after!.attempts).toBe(2);
    // Resumed (one ranged request for the rest), one file in the library, the dead replica's yt-dlp ended.
    const resumed = site.requests.slice(before).filter((r) => r.path === "/slow/long.mp4");
    expect(resumed.length).toBe(1);
    expect(resumed[0]!.range).toMatch(/^bytes=[1-9]\d*-/);
    expect(readdirSync(join(library(), "Unknown channel")).filter((f) => f.includes("[slow-1]"))).toHaveLength(1);
    expect(existsSync(`/proc/${item.worker_pgid}`)).toBe(false);
    await claimer.start();
  }, 120_000);

  test("download quotas hold across replicas: confirms spread over all three let exactly the quota in", async () => {
    await (await admin.get("/admin/new-user")).arrayBuffer();
    expect((await admin.post("/admin/new-user", { username: "quota1", password: PASSWORD, role: "user" })).status).toBe(
      303,
    );
    await sql`update users set downloads_per_hour = 3 where username = 'quota1'`;
    const member = new HttpClient(cluster.url);
    expect((await member.signIn("quota1", PASSWORD)).status).toBe(303);
    const url = `${site.url}/clip.mp4`;
    await (await member.get("/downloads")).arrayBuffer();
    const preview = await member.post("/downloads", { step: "preview", url });
    await preview.arrayBuffer();
    expect(preview.status).toBe(200);
    // Eight confirms at once, one straight to each replica in turn.
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const r = cluster.replicas[i % 3]!;
        const res = await member.at(r.base).post("/downloads", { url, quality: "best", sectionKey: "7" });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(results.filter((s) => s === 303)).toHaveLength(3);
    expect(results.filter((s) => s === 429)).toHaveLength(5);
    const [row] = await sql`select count(*)::int as n from downloads d join users u on u.id = d.user_id
      where u.username = 'quota1'`;
    expect(row!.n).toBe(3);
  }, 60_000);
});

describe.skipIf(!ready)("Redis killed under load", () => {
  let pg: Awaited<ReturnType<typeof createTempPostgres>>;
  let redis: PrivateRedis;
  let cluster: Cluster;

  afterAll(async () => {
    await cluster?.stop();
    await redis?.kill();
    await pg?.drop();
  });

  test("replicas keep serving what needs no coordination, /readyz says Redis is down, and cross-replica events come back with it", async () => {
    pg = await createTempPostgres();
    redis = await new PrivateRedis().start();
    cluster = new Cluster({ bin, work: work.dir, databaseUrl: pg.url, redisUrl: redis.url });
    await createOwner(cluster);
    await cluster.start();
    const admin = new HttpClient(cluster.url);
    expect((await admin.signIn("owner", PASSWORD)).status).toBe(303);
    const [a, , c] = cluster.replicas;
    const stream = new SseStream(`${c!.base}/events`, admin.cookieHeader());
    expect((await stream.opened).status).toBe(200);

    const loop = requestLoop(3, (i) => admin.get(i % 2 ? "/account" : "/"));
    try {
      await Bun.sleep(300);
      await redis.kill();
      for (const r of cluster.replicas)
        await until(`${r.name} to report Redis down`, async () => {
          const res = await r.readyz();
          return res.status === 503 && res.body.coordination === "redis down";
        });
      // Pages that need no coordination are still served while it is down.
      const during = loop.results.length;
      await until("six page loads while Redis is down", () => loop.results.length >= during + 6);
      const whileDown = loop.results.slice(during);
      expect(whileDown.filter((r) => r.status !== 200)).toEqual([]);
      // What needs Redis says so: a sign-in (rate limited in Redis) is refused with a readable message.
      const signIn = new HttpClient(cluster.url);
      await (await signIn.get("/login")).arrayBuffer();
      const refused = await signIn.post("/login", { username: "owner", password: PASSWORD, next: "/" });
      expect(refused.status).toBe(503);
      expect(await refused.text()).toContain("Redis");

      await redis.start();
      for (const r of cluster.replicas)
        await until(`${r.name} to be ready again`, async () => (await r.readyz()).status === 200);
    } finally {
      await loop.stop();
    }
    // The stream held open on C through the outage gets an event published on A again.
    const direct = admin.at(a!.base);
    await (await direct.get("/admin")).arrayBuffer();
    await until("a notice through A to reach the stream on C", async () => {
      const res = await direct.post("/admin/notice", { text: `Back ${Date.now()}`, action: "post" });
      await res.arrayBuffer();
      return stream.text.includes("Back ");
    });
    stream.close();
  }, 120_000);
});

describe.skipIf(!ready)("PostgreSQL restarted under load", () => {
  let pg: PrivatePostgres;
  let cluster: Cluster;

  afterAll(async () => {
    await cluster?.stop();
    await pg?.destroy();
  });

  test("clear errors while it is down, no acknowledged write lost, recovery without restarting MediaNest", async () => {
    pg = await new PrivatePostgres(work.dir).init();
    await pg.start();
    cluster = new Cluster({ bin, work: work.dir, databaseUrl: pg.url, redisUrl: REDIS_TEST_URL });
    await createOwner(cluster);
    await cluster.start();
    const admin = new HttpClient(cluster.url);
    expect((await admin.signIn("owner", PASSWORD)).status).toBe(303);
    await (await admin.get("/admin")).arrayBuffer();
    const acknowledged: string[] = [];
    // Writes: announcements, each a notification row; the acknowledged ones (303) must all be there afterwards.
    const loop = requestLoop(3, async (i) => {
      const title = `write-${i}`;
      const res = await admin.post("/admin/announce", { title, body: "kept" });
      if (res.status === 303) acknowledged.push(title);
      return res;
    });
    const pids = cluster.replicas.map((r) => r.proc!.pid);
    let duringOutage: typeof loop.results = [];
    try {
      await until("some writes before the restart", () => acknowledged.length >= 10);
      await pg.stop();
      const from = loop.results.length;
      for (const r of cluster.replicas)
        await until(`${r.name} to report the database down`, async () => (await r.readyz()).body.database === "down");
      await Bun.sleep(1000);
      duringOutage = loop.results.slice(from);
      await pg.start();
      for (const r of cluster.replicas)
        await until(`${r.name} to be ready again`, async () => (await r.readyz()).status === 200);
      const n = acknowledged.length;
      await until("writes to succeed again", () => acknowledged.length >= n + 10);
    } finally {
      await loop.stop();
    }
    // While it was down: readable errors, not hangs or blank 500s.
    const failures = duringOutage.filter((r) => r.status !== 303);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.status).toBe(503);
      expect(f.body?.replace(/<[^>]+>/g, " ")).toContain("database");
    }

    // The same processes serve again.
    expect(cluster.replicas.map((r) => r.proc!.pid)).toEqual(pids);
    const { default: postgres } = await import("postgres");
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select distinct title from notifications where title like 'write-%'`;
      const stored = new Set(rows.map((r) => r.title as string));
      expect(acknowledged.filter((t) => !stored.has(t))).toEqual([]);
    } finally {
      await sql.end();
    }
  }, 180_000);
});
