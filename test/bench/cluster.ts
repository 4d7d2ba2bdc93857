// Benchmark (not a test): bun run bench:cluster   (options: --clients=1000 --rounds=5 --seconds=3 --write-doc)
// The compiled binary as three replicas on one PostgreSQL database and one Redis, behind one nginx (the cluster
// suite's harness, test/cluster/harness.ts) that serves two sites: all three replicas, and replica A alone.
// 1. The signed-in dashboard (GET /) through nginx: requests per second and p99 latency, three replicas against
//    one, in alternating rounds of the same run (each figure the median of its rounds). On a machine with few
//    cores this shows what coordination costs, not how it scales; the target is at least 0.8x of one replica.
// 2. SSE delivery across replicas: N signed-in clients per replica hold /events open through nginx; an event is
//    published into the cluster's Redis the way a replica publishes it (a maintenance notice for everyone), and
//    the time from the publish to each client seeing it is measured (same machine clock); p50/p99 over all clients.
// --write-doc puts the figures in docs/deploy.md under "## Cluster benchmark" (replacing that section only).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./figures";
import { createLogger } from "../../src/app/logger";
import { loadConfig } from "../../src/config/config";
import { createCoordination } from "../../src/coordination";
import { openPostgres } from "../../src/db/database";
import { publishEvent, topics } from "../../src/services/events";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import { Cluster, NGINX, Nginx, buildBinary, runBinary, workDir } from "../cluster/harness";
import { givenUser } from "../helpers/test-app";
import { REDIS_TEST_URL, createTempPostgres } from "../helpers/services";

const ROOT = join(import.meta.dir, "..", "..");
function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const CLIENTS = Number(arg("clients", "1000"));
const ROUNDS = Number(arg("rounds", "5"));
const SECONDS = Number(arg("seconds", "3"));
const CONCURRENCY = Number(arg("concurrency", "32"));
const PUBLISHES = Number(arg("publishes", "3"));
const TARGET_RATIO = 0.8;

if (!NGINX) {
  console.error("bench: nginx is not installed (Debian package nginx-light)");
  process.exit(1);
}
// Each SSE client is a socket here and two in nginx.
const limit = readFileSync("/proc/self/limits", "utf8")
  .split("\n")
  .find((l) => l.startsWith("Max open files"))!
  .replace("Max open files", "")
  .trim()
  .split(/\s+/)[0]!;
if (limit !== "unlimited" && Number(limit) < CLIENTS * 3 + 500) {
  console.error(`bench: ${CLIENTS * 3} SSE clients need more open files; run ulimit -n ${CLIENTS * 3 + 1000} first`);
  process.exit(1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const now = () => performance.timeOrigin + performance.now();

// The machine's other load, for the record (the figures below are only as good as the machine was quiet).
const loadAtStart = loadavg()[0]!;
const work = workDir("bench-cluster");
const pg = await createTempPostgres();
let cluster: Cluster | undefined;
let nginx: Nginx | undefined;
const cleanup = async () => {
  await nginx?.stop();
  await cluster?.stop();
  await pg.drop();
  work.remove();
};

try {
  console.log("bench: building the binary …");
  const bin = await buildBinary(work.dir);
  // Request lines are not logged: the harness keeps every replica's output in this process, beside the load.
  cluster = new Cluster({
    bin,
    work: work.dir,
    databaseUrl: pg.url,
    redisUrl: REDIS_TEST_URL,
    nginx: false,
    env: { MEDIANEST_LOG_LEVEL: "warn" },
  });
  const made = await runBinary(bin, ["create-admin", "owner"], {
    ...cluster.env,
    MEDIANEST_DATA_DIR: work.dir,
    MEDIANEST_ADMIN_PASSWORD: "correct-horse-battery",
  });
  if (made.code !== 0) throw new Error(`create-admin failed: ${made.stderr}`);

  // Members and their sessions, written straight to the database (signing in 3,000 people would only measure
  // password hashing).
  console.log(`bench: ${CLIENTS * 3} members with a session each …`);
  const database = await openPostgres(pg.url, { timeoutMs: 5000, max: 4 });
  const config = loadConfig({ MEDIANEST_DATA_DIR: work.dir });
  const cookies: string[] = [];
  for (let i = 0; i < CLIENTS * 3; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, CLIENTS * 3 - i) }, async (_, j) => {
        const user = await givenUser({ database }, { username: `bench${i + j}` });
        const { cookie } = await startSession({ database, config }, user, { ip: "127.0.0.1", userAgent: "bench" });
        return `${SESSION_COOKIE}=${cookie}`;
      }),
    );
    cookies.push(...batch);
  }
  await database.close();

  await cluster.start();
  const [a] = cluster.replicas;
  nginx = await new Nginx(work.dir, [cluster.replicas.map((r) => r.port), [a!.port]]).start();
  const [threeUrl, oneUrl] = nginx.urls as [string, string];
  const dashboardCookie = cookies[0]!;

  // --- 1. the signed-in dashboard -------------------------------------------------------------------------------
  const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
  /** CPU time (user + system, in ticks) the replicas used so far. */
  const replicaTicks = () =>
    cluster!.replicas.reduce((n, r) => {
      const f = readFileSync(`/proc/${r.proc!.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return n + Number(f[11]) + Number(f[12]);
    }, 0);
  async function load(base: string, seconds: number) {
    const cpu0 = replicaTicks();
    const latencies: number[] = [];
    let ok = 0;
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const s = performance.now();
          try {
            const res = await fetch(`${base}/`, { headers: { cookie: dashboardCookie }, redirect: "manual" });
            await res.arrayBuffer();
            if (res.status === 200) ok++;
            else errors++;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - s);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const cpuUs = ((replicaTicks() - cpu0) * 1e6) / CLOCK_TICKS / Math.max(ok, 1);
    latencies.sort((x, y) => x - y);
    return { rps: ok / elapsed, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), errors, cpuUs };
  }
  const check = await fetch(`${threeUrl}/`, { headers: { cookie: dashboardCookie } });
  const page = await check.text();
  if (check.status !== 200 || !page.includes('name="csrf-token"'))
    throw new Error(`bench: the dashboard is not signed in`);
  console.log(`bench: dashboard, ${ROUNDS} rounds of ${SECONDS} s each for 3 replicas and 1, ${CONCURRENCY} at once …`);
  // Every replica gets the same warm-up (its JIT compiles the page's code) before any round counts.
  for (const r of cluster.replicas) await load(r.base, 2);
  await load(threeUrl, 1);
  await load(oneUrl, 1);
  const rounds: { three: Awaited<ReturnType<typeof load>>; one: Awaited<ReturnType<typeof load>> }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const three = await load(threeUrl, SECONDS);
    const one = await load(oneUrl, SECONDS);
    rounds.push({ three, one });
    console.log(
      `  round ${r + 1}: 3 replicas ${three.rps.toFixed(0)} req/s p99 ${three.p99.toFixed(1)} ms ${three.cpuUs.toFixed(0)} µs CPU/req; 1 replica ${one.rps.toFixed(0)} req/s p99 ${one.p99.toFixed(1)} ms ${one.cpuUs.toFixed(0)} µs CPU/req`,
    );
  }
  const dash = {
    threeRps: median(rounds.map((r) => r.three.rps)),
    oneRps: median(rounds.map((r) => r.one.rps)),
    threeP99: median(rounds.map((r) => r.three.p99)),
    oneP99: median(rounds.map((r) => r.one.p99)),
    ratio: median(rounds.map((r) => r.three.rps / r.one.rps)),
    threeCpu: median(rounds.map((r) => r.three.cpuUs)),
    oneCpu: median(rounds.map((r) => r.one.cpuUs)),
    errors: rounds.reduce((n, r) => n + r.three.errors + r.one.errors, 0),
  };

  // --- 2. SSE delivery across replicas --------------------------------------------------------------------------
  console.log(`bench: ${CLIENTS * 3} SSE clients through nginx …`);
  interface Client {
    upstream: string;
    subscribed: boolean;
    closed: boolean;
    tail: string;
    seen: Map<number, number>;
  }
  const clients: Client[] = [];
  const MARK = /bench-mark-(\d+)/g;
  const url = new URL(threeUrl);
  async function connect(cookie: string): Promise<void> {
    const c: Client = { upstream: "", subscribed: false, closed: false, tail: "", seen: new Map() };
    clients.push(c);
    const request = `GET /events HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nCookie: ${cookie}\r\n\r\n`;
    try {
      await Bun.connect({
        hostname: url.hostname,
        port: Number(url.port),
        socket: {
          open: (socket) => void socket.write(request),
          data(_socket, chunk) {
            const at = now();
            const text = c.tail + chunk.toString("latin1");
            if (!c.upstream) c.upstream = /x-upstream: ([^\r\n]+)/i.exec(text)?.[1] ?? "";
            if (!c.subscribed && text.includes("bell-count")) c.subscribed = true;
            for (const m of text.matchAll(MARK)) if (!c.seen.has(Number(m[1]))) c.seen.set(Number(m[1]), at);
            c.tail = text.slice(-60);
          },
          close: () => void (c.closed = true),
          error: () => void (c.closed = true),
        },
      });
    } catch {
      c.closed = true;
    }
  }
  for (let i = 0; i < cookies.length; i += 250) {
    await Promise.all(cookies.slice(i, i + 250).map(connect));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && clients.some((c) => !c.subscribed && !c.closed)) await Bun.sleep(10);
  }
  const open = clients.filter((c) => c.subscribed && !c.closed);
  const perReplica = new Map<string, number>();
  for (const c of open) perReplica.set(c.upstream, (perReplica.get(c.upstream) ?? 0) + 1);
  console.log(`  open: ${open.length} of ${clients.length}; per replica: ${[...perReplica.values()].join(", ")}`);

  const coordination = await createCoordination(REDIS_TEST_URL, { keyPrefix: cluster.prefix });
  const deps = { coordination, log: createLogger("warn") };
  const delivery: number[] = [];
  let missed = 0;
  for (let k = 0; k < PUBLISHES; k++) {
    await Bun.sleep(500);
    const at = now();
    await publishEvent(deps, topics.everyone, { type: "notice", text: `bench-mark-${k}` });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && open.some((c) => !c.closed && !c.seen.has(k))) await Bun.sleep(5);
    for (const c of open) {
      const seen = c.seen.get(k);
      if (seen === undefined) missed++;
      else delivery.push(seen - at);
    }
  }
  await coordination.close();
  delivery.sort((x, y) => x - y);
  const sse = {
    clients: open.length,
    perReplica: [...perReplica.values()],
    p50: pct(delivery, 0.5),
    p99: pct(delivery, 0.99),
    missed,
  };

  // --- report ----------------------------------------------------------------------------------------------------
  const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? "unknown CPU"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, Bun ${Bun.version}, ${Bun.spawnSync([NGINX, "-v"]).stderr.toString().trim().replace("nginx version: ", "")}, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`;
  const verdict = dash.ratio >= TARGET_RATIO ? "meets" : "misses";
  const table = [
    "| measure | 3 replicas | 1 replica | ratio / target |",
    "| --- | --- | --- | --- |",
    `| signed-in dashboard, requests per second (median of ${ROUNDS} rounds) | ${dash.threeRps.toFixed(0)} | ${dash.oneRps.toFixed(0)} | ${dash.ratio.toFixed(2)}x (target ≥ ${TARGET_RATIO}x: ${verdict}) |`,
    `| signed-in dashboard, p99 latency | ${dash.threeP99.toFixed(1)} ms | ${dash.oneP99.toFixed(1)} ms | |`,
    `| signed-in dashboard, replicas' CPU time per request | ${dash.threeCpu.toFixed(0)} µs | ${dash.oneCpu.toFixed(0)} µs | ${(dash.oneCpu / dash.threeCpu).toFixed(2)}x |`,
    `| SSE delivery across replicas, ${sse.clients} clients (${sse.perReplica.join(" / ")} per replica), p50 | ${sse.p50.toFixed(1)} ms | | |`,
    `| SSE delivery across replicas, p99 (${PUBLISHES} events, ${sse.missed} missed) | ${sse.p99.toFixed(1)} ms | | |`,
  ].join("\n");
  console.log(`\n${table}\n\n${machine}; dashboard errors: ${dash.errors}`);

  // For `bun run bench:all`: the figures in the shape importable benchmarks return (test/bench/figures.ts).
  if (process.env.BENCH_FIGURES_FILE) {
    const figures: Figure[] = [
      {
        name: "signed-in dashboard through nginx, 3 replicas: requests per second (baseline: 1 replica)",
        unit: "req/s",
        value: dash.threeRps,
        baseline: dash.oneRps,
        ratio: dash.ratio,
        target: `at least ${TARGET_RATIO}x one replica`,
        met: dash.ratio >= TARGET_RATIO,
      },
      {
        name: `SSE delivery across replicas p99, ${sse.clients} clients (baseline: p50)`,
        unit: "ms",
        value: sse.p99,
        baseline: sse.p50,
        ratio: sse.p99 / sse.p50,
        target: "every event delivered",
        met: sse.missed === 0,
      },
    ];
    writeFileSync(process.env.BENCH_FIGURES_FILE, JSON.stringify(figures));
  }
  if (process.argv.includes("--write-doc")) {
    const doc = join(ROOT, "docs", "deploy.md");
    const section = `## Cluster benchmark

\`bun run bench:cluster\` (\`--write-doc\` rewrites this section; \`ulimit -n 5000\` first for the SSE clients)
runs the compiled binary as three replicas on one PostgreSQL database and one Redis behind one nginx, which serves
all three on one port and replica A alone on another, and measures both in alternating rounds of the same run. The
load generator (${CONCURRENCY} concurrent fetches) and everything else share the machine, so on few cores the
ratio shows what coordination costs, not how replicas scale. SSE delivery is timed from the publish into the
cluster's Redis (as a replica publishes an event for everyone) to each client through nginx seeing it.

${table}

Measured on ${machine}, ${new Date().toISOString().slice(0, 10)}.
`;
    const before = existsSync(doc) ? readFileSync(doc, "utf8") : "# Deploying MediaNest\n";
    const start = before.indexOf("## Cluster benchmark");
    const next = start < 0 ? -1 : before.indexOf("\n## ", start + 5);
    const after =
      start < 0
        ? `${before.trimEnd()}\n\n${section}`
        : `${before.slice(0, start)}${section}${next < 0 ? "" : `\n${before.slice(next + 1)}`}`;
    writeFileSync(doc, after);
    console.log(`bench: wrote the figures to ${doc}`);
  }
  for (const c of clients) c.closed = true;
} finally {
  await cleanup();
}
process.exit(0);
