// Cluster mode, proven with the compiled binary: three replicas on one PostgreSQL database and one Redis (a key
// prefix of their own), behind a real nginx balancing round robin, the way Traefik or the Swarm routing mesh
// spreads requests. Sessions, live events, rate limits, singleton jobs and migrations must behave as one server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postgresAvailable, redisAvailable, REDIS_TEST_URL, createTempPostgres } from "../helpers/services";
import { buildBinary, Cluster, HttpClient, NGINX, runBinary, SseStream, until, workDir, type Replica } from "./harness";

const inCI = process.env.CI === "true";
const ready = Boolean(NGINX) && postgresAvailable && redisAvailable;
if (!ready) {
  const missing = [
    !NGINX && "nginx (Debian package nginx-light)",
    !postgresAvailable && "PostgreSQL",
    !redisAvailable && "Redis",
  ]
    .filter(Boolean)
    .join(", ");
  // Under CI every part must be there (test/ci-parts.test.ts fails the run too); locally the suite skips, visibly.
  if (inCI) throw new Error(`cluster suite: missing ${missing}`);
  console.warn(`cluster.test: missing ${missing}; the cluster suite is SKIPPED`);
}

const PASSWORD = "correct-horse-battery";

describe.skipIf(!ready)("three replicas behind nginx", () => {
  const work = workDir("cluster");
  let bin: string;
  let pg: Awaited<ReturnType<typeof createTempPostgres>>;
  let cluster: Cluster;
  let admin: HttpClient;

  beforeAll(async () => {
    bin = await buildBinary(work.dir);
    pg = await createTempPostgres();
    cluster = new Cluster({
      bin,
      work: work.dir,
      databaseUrl: pg.url,
      redisUrl: REDIS_TEST_URL,
      env: { MEDIANEST_LOG_LEVEL: "debug", MEDIANEST_JOB_SCHEDULES: "session-cleanup=*/2 * * * * *" },
    });
    // The first administrator, made with the binary's own command (it migrates the empty database).
    const made = await runBinary(bin, ["create-admin", "owner"], {
      ...cluster.env,
      MEDIANEST_DATA_DIR: work.dir,
      MEDIANEST_ADMIN_PASSWORD: PASSWORD,
    });
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    await cluster.start();
    admin = new HttpClient(cluster.url);
    expect((await admin.signIn("owner", PASSWORD)).status).toBe(303);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await pg?.drop();
    work.remove();
  });

  /** GET a page through each replica directly; the status codes in replica order. */
  async function statusOnEach(client: HttpClient, path: string): Promise<number[]> {
    return Promise.all(
      cluster.replicas.map(async (r) => {
        const res = await client.at(r.base).get(path);
        await res.arrayBuffer();
        return res.status;
      }),
    );
  }

  test("nginx spreads requests over every replica", async () => {
    const seen = new Set<Replica | undefined>();
    for (let i = 0; i < 9; i++) {
      const res = await admin.get("/account");
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      seen.add(cluster.answeredBy(res));
    }
    expect([...seen].filter(Boolean)).toHaveLength(3);
  });

  test("a session made through one replica works on the others; signing out on one ends it on all", async () => {
    const browser = new HttpClient(cluster.url);
    const res = await browser.signIn("owner", PASSWORD);
    expect(res.status).toBe(303);
    const signedInAt = cluster.answeredBy(res)!;
    expect(signedInAt).toBeDefined();
    expect(await statusOnEach(browser, "/account")).toEqual([200, 200, 200]);
    // Sign out on a replica other than the one that made the session.
    const other = cluster.replicas.find((r) => r !== signedInAt)!;
    const cookie = browser.cookieHeader();
    const direct = browser.at(other.base);
    await (await direct.get("/account")).arrayBuffer();
    const out = await direct.post("/logout");
    expect(out.status).toBe(303);
    // The old cookie, replayed on every replica, is signed out everywhere.
    const replay = new HttpClient(cluster.url);
    replay.cookies.set(cookie.split("=")[0]!, cookie.slice(cookie.indexOf("=") + 1));
    const after = await statusOnEach(replay, "/account");
    expect(after.every((s) => s === 302 || s === 303)).toBe(true);
  });

  test("an event published on one replica reaches live streams held open on every replica", async () => {
    // A member, made through the admin pages of replica A, signs in through nginx.
    const a = admin.at(cluster.replicas[0]!.base);
    await (await a.get("/admin/new-user")).arrayBuffer();
    const made = await a.post("/admin/new-user", {
      username: "member1",
      displayName: "Member One",
      password: PASSWORD,
      role: "user",
    });
    expect(made.status).toBe(303);
    const member = new HttpClient(cluster.url);
    expect((await member.signIn("member1", PASSWORD)).status).toBe(303);

    const streams = cluster.replicas.flatMap((r) => [
      new SseStream(`${r.base}/events`, admin.cookieHeader()),
      new SseStream(`${r.base}/events`, member.cookieHeader()),
    ]);
    try {
      for (const s of streams) expect((await s.opened).status).toBe(200);
      // A stream sends its opening messages (the bell's count) once it is subscribed.
      for (const s of streams) await s.waitFor("bell-count");
      // Through replica A: a maintenance notice (everyone) and an announcement (a notification per user).
      await (await a.get("/admin")).arrayBuffer();
      expect((await a.post("/admin/notice", { text: "Cluster maintenance tonight", action: "post" })).status).toBe(303);
      for (const s of streams) await s.waitFor("Cluster maintenance tonight");
      expect((await a.post("/admin/announce", { title: "New shelf", body: "Look at the new shelf." })).status).toBe(
        303,
      );
      for (const s of streams) await s.waitFor("New shelf");
    } finally {
      for (const s of streams) s.close();
    }
  });

  test("rate limits hold across replicas: failed sign-ins spread over all three trip the limit at the same count", async () => {
    const answered = new Set<Replica | undefined>();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const c = new HttpClient(cluster.url);
      await (await c.get("/login")).arrayBuffer();
      const res = await c.post("/login", { username: "member1", password: "wrong-password-1", next: "/" });
      await res.arrayBuffer();
      statuses.push(res.status);
      answered.add(cluster.answeredBy(res));
    }
    expect(answered.size).toBe(3);
    // Five per account in 15 minutes, counted in Redis: the sixth is refused whichever replica gets it.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  test("a singleton job runs once per tick across replicas, and the others go on when the last runner is killed", async () => {
    const ticks = () => {
      const byTick = new Map<string, string[]>();
      for (const r of cluster.replicas)
        for (const l of r.logLines())
          if (l.msg === "job finished" && l.job === "session-cleanup" && typeof l.tick === "string")
            byTick.set(l.tick, [...(byTick.get(l.tick) ?? []), r.name]);
      return byTick;
    };
    await until("four ticks of session-cleanup", () => ticks().size >= 4, 30_000);
    const before = ticks();
    for (const [tick, runners] of before) expect({ tick, runners: runners.length }).toEqual({ tick, runners: 1 });
    // Kill the replica that ran the latest tick; the other two keep the schedule, still once per tick.
    const latest = [...before.keys()].sort().pop()!;
    const victim = cluster.replicas.find((r) => r.name === before.get(latest)![0])!;
    await victim.kill("SIGKILL");
    const killedAt = new Date().toISOString();
    await until(
      "three ticks after the kill",
      () => [...ticks().keys()].filter((t) => t > killedAt).length >= 3,
      30_000,
    );
    const after = ticks();
    for (const [tick, runners] of after) expect({ tick, runners: runners.length }).toEqual({ tick, runners: 1 });
    const later = [...after.keys()].filter((t) => t > killedAt).sort();
    // Every two seconds, none missed.
    for (let i = 1; i < later.length; i++) expect(Date.parse(later[i]!) - Date.parse(later[i - 1]!)).toBe(2000);
    for (const t of later) expect(after.get(t)).not.toContain(victim.name);
    // Bring it back for the tests after this one.
    await victim.start();
  });
});

describe.skipIf(!ready)("two replicas starting at once on an empty database", () => {
  const work = workDir("cluster-migrate");
  let pg: Awaited<ReturnType<typeof createTempPostgres>>;
  let cluster: Cluster;

  afterAll(async () => {
    await cluster?.stop();
    await pg?.drop();
    work.remove();
  });

  test("migrate it once", async () => {
    const bin = await buildBinary(work.dir);
    pg = await createTempPostgres();
    cluster = new Cluster({
      bin,
      work: work.dir,
      databaseUrl: pg.url,
      redisUrl: REDIS_TEST_URL,
      replicas: 2,
      nginx: false,
    });
    for (const r of cluster.replicas) r.spawn();
    await Promise.all(cluster.replicas.map((r) => r.ready()));
    const applied = cluster.replicas.map((r) => r.logLines().filter((l) => l.msg === "migrations applied").length);
    expect(applied.sort()).toEqual([0, 1]);
    const { default: postgres } = await import("postgres");
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select idx, count(*)::int as n from medianest_migrations group by idx order by idx`;
      expect(rows.length).toBeGreaterThan(3);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(rows.map((r) => r.idx)).toEqual(rows.map((_, i) => i));
    } finally {
      await sql.end();
    }
    for (const r of cluster.replicas) expect((await r.readyz()).body.migrations).toBe("current");
  });
});
