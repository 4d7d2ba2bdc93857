// Benchmark (not a test): bun test/bench/pages.ts   (BENCH_QUICK=1: one short round per page)
// The signed-in pages of the compiled binary (dist/medianest, built by `bun run build` unless BENCH_NO_BUILD=1) on
// a seeded SQLite database (test/bench/seed.ts: 50 users, 10,000 media requests, thousands of notifications and
// downloads, 30 days of checks; Plex, Seerr and Uptime Kuma connected at a closed port, so they read as down and
// pages render from stored history). For each page, MediaNest and compiled bare Hono (GET / "hello") take turns
// for ROUNDS rounds of CONCURRENCY fetch loops; the rate figure is the ratio of the medians, the latency the p99
// over all rounds. The queries each page runs are counted in this process (the same code from source, the same
// database) and again on a database seeded with twice the rows: the count must not grow.
// Members' pages are read as the member with the most rows, the admin pages as the administrator.
// Beside the loaded rounds: the server's CPU time per request over them (/proc/<pid>/stat, which the machine's
// other load moves far less than a rate), and, for the pages whose latency target is a person's wait (alone: true),
// one request at a time, MediaNest and bare Hono taking turns: the p99 of those is what that target is judged on.
// With 32 loops on 2 cores a loaded round's p99 is mostly the queue (about 32 / rate), a throughput figure: it is
// reported for every page and judged only where no one-at-a-time target is set.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/app/logger";
import { loadConfig } from "../../src/config/config";
import { createSecretBox, loadMasterKey } from "../../src/config/secret-box";
import { createCoordination } from "../../src/coordination";
import { openSqlite, sqliteFile } from "../../src/db/database";
import { migrate } from "../../src/db/migrate";
import { createApp } from "../../src/server/app";
import { createDeps } from "../../src/server/runtime";
import { SESSION_COOKIE } from "../../src/services/sessions";
import { type Figure, median, printFigures, quantile } from "./figures";
import { forgetKept } from "../../src/store/kept";
import { countQueries } from "./query-count";
import { type SeedResult, seedDataDir } from "./seed";

const ROOT = join(import.meta.dir, "..", "..");

export interface Page {
  path: string;
  admin: boolean;
  /** Minimum rate as a fraction of bare Hono's, when the page has a target. */
  minRatio?: number;
  /** Maximum p99 in milliseconds, when the page has a target. */
  maxP99Ms?: number;
  /** Judge maxP99Ms on requests made one at a time (a person's wait), not on the loaded rounds' queue. */
  alone?: boolean;
}

export const PAGES: Page[] = [
  { path: "/", admin: false, minRatio: 0.25, maxP99Ms: 10 },
  { path: "/status", admin: false },
  { path: "/notifications", admin: false },
  { path: "/requests", admin: false, maxP99Ms: 20, alone: true },
  { path: "/admin/requests", admin: true, maxP99Ms: 20, alone: true },
  { path: "/downloads", admin: false },
  { path: "/admin/downloads", admin: true },
];

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function sh(argv: string[]): Promise<void> {
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`bench: ${argv.join(" ")} failed (${code}):\n${out}\n${err}`);
}

async function waitFor(url: string, proc: Bun.Subprocess, what: string): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`bench: ${what} exited with ${proc.exitCode}`);
    if (performance.now() - t0 > 30_000) throw new Error(`bench: ${what} was not ready within 30 s`);
    await Bun.sleep(5);
  }
}

interface Load {
  rps: number;
  latencies: number[];
  errors: number;
}

/** CONCURRENCY fetch loops on one URL for some seconds; counts 200 answers. */
async function load(url: string, cookie: string | undefined, seconds: number, concurrency: number): Promise<Load> {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const headers = cookie ? { cookie } : undefined;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          const res = await fetch(url, { headers, redirect: "manual" });
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
  return { rps: ok / ((performance.now() - t0) / 1000), latencies, errors };
}

/** CPU time (user + system) a process has used so far, in milliseconds (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Latencies of `count` requests made one after the other. */
async function alone(url: string, cookie: string | undefined, count: number): Promise<number[]> {
  const headers = cookie ? { cookie } : undefined;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    const res = await fetch(url, { headers, redirect: "manual" });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bench: ${url} answered ${res.status}`);
    out.push(performance.now() - s);
  }
  return out;
}

/**
 * Statements each page runs (second request: the first warms what is loaded once), on one data directory; the
 * lookups SQLite keeps between writes (src/store/kept.ts) are forgotten before it, so every statement is counted.
 */
async function queriesPerPage(dataDir: string, seed: SeedResult): Promise<Map<string, number>> {
  const config = loadConfig({ MEDIANEST_DATA_DIR: dataDir, MEDIANEST_LOG_LEVEL: "error" });
  const database = openSqlite(sqliteFile(dataDir));
  await migrate(database);
  const counter = countQueries(database.sqlite!);
  const coordination = await createCoordination();
  const deps = createDeps({
    config,
    database,
    coordination,
    secretBox: createSecretBox(loadMasterKey(dataDir)),
    log: createLogger("error"),
  });
  const app = createApp(deps);
  const out = new Map<string, number>();
  try {
    for (const page of PAGES) {
      const cookie = `${SESSION_COOKIE}=${(page.admin ? seed.admin : seed.member).cookie}`;
      for (let i = 0; i < 2; i++) {
        forgetKept(database);
        counter.reset();
        const res = await app.request(`http://localhost${page.path}`, { headers: { cookie } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`bench: ${page.path} answered ${res.status} in process`);
      }
      out.set(page.path, counter.count);
    }
  } finally {
    deps.live.closeAll();
    await coordination.close();
    await database.close();
  }
  return out;
}

export async function run(opts: { quick?: boolean; build?: boolean } = {}): Promise<Figure[]> {
  const quick = opts.quick ?? process.env.BENCH_QUICK === "1";
  const rounds = Number(process.env.BENCH_PAGES_ROUNDS ?? (quick ? 1 : 7));
  const seconds = Number(process.env.BENCH_LOAD_SECONDS ?? (quick ? 0.5 : 2));
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
  const only = process.env.BENCH_PAGES?.split(",");
  const pages = only ? PAGES.filter((p) => only.includes(p.path)) : PAGES;
  const work = mkdtempSync(join(tmpdir(), "medianest-bench-pages-"));
  const children = new Set<Bun.Subprocess>();
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.on("exit", killAll);
  try {
    if (opts.build ?? process.env.BENCH_NO_BUILD !== "1") {
      console.log("bench: building dist/medianest …");
      await sh(["bun", "run", "build"]);
    }
    const honoBin = join(work, "bare-hono");
    await sh([
      "bun",
      "build",
      "--compile",
      "--bytecode",
      "--minify",
      join(import.meta.dir, "bare-hono.ts"),
      "--outfile",
      honoBin,
    ]);

    console.log("bench: seeding the database (and one with twice the rows, for the query counts) …");
    const closed = `http://127.0.0.1:${freePort()}`;
    const dataDir = join(work, "data");
    const seed = await seedDataDir(dataDir, { integrationsAt: closed });
    const doubleDir = join(work, "double");
    const double = await seedDataDir(doubleDir, { integrationsAt: closed, scale: 2 });
    const queries = await queriesPerPage(dataDir, seed);
    const queriesDouble = await queriesPerPage(doubleDir, double);
    rmSync(doubleDir, { recursive: true, force: true });

    const mnPort = freePort();
    const mn = Bun.spawn([join(ROOT, "dist", "medianest"), "serve"], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        MEDIANEST_DATA_DIR: dataDir,
        MEDIANEST_PORT: String(mnPort),
        MEDIANEST_HOST: "127.0.0.1",
      },
      stdout: "ignore",
      stderr: "inherit",
    });
    children.add(mn);
    const honoPort = freePort();
    const hono = Bun.spawn([honoBin], {
      cwd: work,
      env: { PORT: String(honoPort), HOST: "127.0.0.1" },
      stdout: "ignore",
      stderr: "inherit",
    });
    children.add(hono);
    await waitFor(`http://127.0.0.1:${mnPort}/readyz`, mn, "MediaNest");
    await waitFor(`http://127.0.0.1:${honoPort}/`, hono, "bare Hono");
    const honoUrl = `http://127.0.0.1:${honoPort}/`;

    console.log(
      `bench: ${pages.length} pages, ${rounds} rounds of ${seconds} s each for MediaNest and bare Hono in turn, ${concurrency} concurrent fetches …`,
    );
    const figures: Figure[] = [];
    for (const page of pages) {
      const cookie = `${SESSION_COOKIE}=${(page.admin ? seed.admin : seed.member).cookie}`;
      const url = `http://127.0.0.1:${mnPort}${page.path}`;
      await load(url, cookie, quick ? 0.3 : 1, concurrency);
      await load(honoUrl, undefined, quick ? 0.3 : 1, concurrency);
      const mnRuns: Load[] = [];
      const honoRuns: Load[] = [];
      let mnCpu = 0;
      let honoCpu = 0;
      const mnLoad = async () => {
        const c0 = cpuMs(mn.pid);
        const r = await load(url, cookie, seconds, concurrency);
        mnCpu += cpuMs(mn.pid) - c0;
        mnRuns.push(r);
      };
      const honoLoad = async () => {
        const c0 = cpuMs(hono.pid);
        const r = await load(honoUrl, undefined, seconds, concurrency);
        honoCpu += cpuMs(hono.pid) - c0;
        honoRuns.push(r);
      };
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          await honoLoad();
          await mnLoad();
        } else {
          await mnLoad();
          await honoLoad();
        }
      }
      // One request at a time, in turns of 50, for the pages whose target is a person's wait.
      const mnAlone: number[] = [];
      const honoAlone: number[] = [];
      if (page.alone) {
        const turns = quick ? 2 : 10;
        for (let r = 0; r < turns; r++) {
          if (r % 2 === 0) {
            honoAlone.push(...(await alone(honoUrl, undefined, 50)));
            mnAlone.push(...(await alone(url, cookie, 50)));
          } else {
            mnAlone.push(...(await alone(url, cookie, 50)));
            honoAlone.push(...(await alone(honoUrl, undefined, 50)));
          }
        }
      }
      const errors = mnRuns.reduce((n, r) => n + r.errors, 0);
      if (errors > 0) throw new Error(`bench: ${page.path} answered ${errors} requests with something else than 200`);
      const rps = median(mnRuns.map((r) => r.rps));
      const honoRps = median(honoRuns.map((r) => r.rps));
      const p99 = quantile(
        mnRuns.flatMap((r) => r.latencies),
        0.99,
      );
      const honoP99 = quantile(
        honoRuns.flatMap((r) => r.latencies),
        0.99,
      );
      const ratio = rps / honoRps;
      const served = (runs: Load[]) => runs.reduce((n, r) => n + r.latencies.length, 0);
      const cpuPer = mnCpu / served(mnRuns);
      const honoCpuPer = honoCpu / served(honoRuns);
      const p99Alone = quantile(mnAlone, 0.99);
      const honoP99Alone = quantile(honoAlone, 0.99);
      console.log(
        `  ${page.path}: ${rps.toFixed(0)} req/s (bare Hono ${honoRps.toFixed(0)}, ${ratio.toFixed(3)}x), p99 ${p99.toFixed(1)} ms (bare Hono ${honoP99.toFixed(1)} ms), server CPU ${(cpuPer * 1000).toFixed(0)} µs per request (bare Hono ${(honoCpuPer * 1000).toFixed(0)} µs)${page.alone ? `, one at a time p50/p99 ${quantile(mnAlone, 0.5).toFixed(2)}/${p99Alone.toFixed(2)} ms (bare Hono ${honoP99Alone.toFixed(2)} ms)` : ""}, ${queries.get(page.path)} queries; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      );
      figures.push({
        name: `GET ${page.path} signed in${page.admin ? " (admin)" : ""}: requests per second`,
        unit: "req/s",
        value: rps,
        baseline: honoRps,
        ratio,
        target: page.minRatio ? `at least ${page.minRatio}x bare Hono` : "none (reported)",
        met: page.minRatio ? ratio >= page.minRatio : true,
      });
      const judgedLoaded = page.maxP99Ms !== undefined && !page.alone;
      figures.push({
        name: `GET ${page.path} signed in${page.admin ? " (admin)" : ""}: p99 latency${page.alone ? ` under load (${concurrency} loops: mostly the queue)` : ""}`,
        unit: "ms",
        value: p99,
        baseline: honoP99,
        ratio: p99 / honoP99,
        target: judgedLoaded ? `under ${page.maxP99Ms} ms` : "none (reported)",
        met: judgedLoaded ? p99 < page.maxP99Ms! : true,
      });
      if (page.alone)
        figures.push({
          name: `GET ${page.path} signed in${page.admin ? " (admin)" : ""}: p99 latency, one request at a time`,
          unit: "ms",
          value: p99Alone,
          baseline: honoP99Alone,
          ratio: p99Alone / honoP99Alone,
          target: `under ${page.maxP99Ms} ms`,
          met: p99Alone < page.maxP99Ms!,
        });
      figures.push({
        name: `GET ${page.path} signed in${page.admin ? " (admin)" : ""}: server CPU per request`,
        unit: "µs",
        value: cpuPer * 1000,
        baseline: honoCpuPer * 1000,
        ratio: cpuPer / honoCpuPer,
        target: "none (reported)",
        met: true,
      });
      const q = queries.get(page.path)!;
      const q2 = queriesDouble.get(page.path)!;
      figures.push({
        name: `GET ${page.path}: queries per request (baseline: on twice the rows)`,
        unit: "queries",
        value: q,
        baseline: q2,
        ratio: q / q2,
        target: "the same on twice the rows",
        met: q === q2,
      });
    }
    mn.kill("SIGTERM");
    hono.kill("SIGTERM");
    await Promise.all([mn.exited, hono.exited]);
    children.clear();
    return figures;
  } finally {
    killAll();
    process.off("exit", killAll);
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await run();
  printFigures("Signed-in pages (seeded SQLite database), against bare Hono GET / in the same run", figures);
}
