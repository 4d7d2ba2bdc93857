// Benchmark (not a test): bun test/bench/download-queue.ts [--jobs=10000] [--rounds=3] [--requests=500] [--quick]
// What a long download queue costs the server: MediaNest (`bun src/main.ts serve`, SQLite) on a database holding
// N waiting downloads (default 10,000: a tenth awaiting approval, half of all the viewer's own, the rest spread over
// 49 other users) against the same server on a database with none, measured in the same run, taking turns. Per
// server: the latency of GET /downloads (as the viewer) and GET /admin/downloads (as an admin), one request at a
// time for the same number of requests each, p99; and the server's RSS (VmRSS) once idle after that same work (the
// lowest sample over 15 s: the heap returns the garbage of the loads to the system some seconds after they end). Targets: RSS within 10 MiB of the empty queue, each
// page's p99 under 20 ms. The download workers are held off (MEDIANEST_JOB_SCHEDULES moves the download-queue job
// to once a year) so that the figures are those of the rows, not of yt-dlp runs. Beside each p99, the server's CPU
// time per request over the same requests (/proc/<pid>/stat), which the machine's other load moves far less.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/app/logger";
import { loadConfig } from "../../src/config/config";
import { saveLibraries } from "../../src/services/integrations";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import { startRuntime } from "../../src/server/runtime";
import { insertDownload } from "../../src/store/downloads";
import { givenUser } from "../helpers/test-app";
import { arg, type Figure, median, printFigures, quantile } from "./figures";

const ROOT = join(import.meta.dir, "..", "..");
const TARGET_RSS_MIB = 10;
const TARGET_P99_MS = 20;
const HOLD_WORKERS = "download-queue=0 0 1 1 *";

interface Side {
  dataDir: string;
  viewer: string;
  admin: string;
}

/** A migrated data directory with an admin, a viewer and 49 other users, and `jobs` waiting downloads. */
export async function prepare(dir: string, jobs: number, library: string): Promise<Side> {
  const config = loadConfig({ MEDIANEST_DATA_DIR: dir, MEDIANEST_LOG_LEVEL: "error" });
  const deps = await startRuntime(config, createLogger("error"));
  try {
    const admin = await givenUser(deps, { role: "admin", username: "owner" });
    const viewer = await givenUser(deps, { username: "viewer", permissions: ["request", "download"] });
    const others = [];
    for (let i = 0; i < 49; i++) others.push(await givenUser(deps, { username: `member${i}` }));
    await saveLibraries(deps, [{ sectionKey: "1", title: "YouTube", type: "movie", folder: library }]);
    const sqlite = deps.database.sqlite!;
    sqlite.exec("BEGIN");
    const t0 = Date.now() - jobs * 1000;
    for (let n = 0; n < jobs; n++) {
      const owner = n % 2 === 0 ? viewer : others[n % others.length]!;
      const at = new Date(t0 + n * 1000);
      const status = n % 10 === 0 ? ("awaiting_approval" as const) : ("queued" as const);
      const id = crypto.randomUUID();
      await insertDownload(
        deps.database,
        {
          id,
          userId: owner.id,
          url: `https://www.youtube.com/watch?v=bench${n}`,
          kind: "video",
          remoteId: `bench${n}`,
          title: `Queued video number ${n} with a title of ordinary length`,
          channel: "A Channel",
          thumbnailUrl: null,
          quality: "best",
          sectionKey: "1",
          folder: library,
          status,
          itemCount: 1,
          estimatedBytes: 50_000_000,
          createdAt: at,
          updatedAt: at,
        },
        [
          {
            id: crypto.randomUUID(),
            downloadId: id,
            userId: owner.id,
            position: 1,
            remoteId: `bench${n}`,
            title: `Queued video number ${n} with a title of ordinary length`,
            url: `https://www.youtube.com/watch?v=bench${n}`,
            status,
            attempts: 0,
            nextAttemptAt: at,
            createdAt: at,
          },
        ],
      );
    }
    sqlite.exec("COMMIT");
    const cookie = async (u: typeof admin) =>
      `${SESSION_COOKIE}=${(await startSession(deps, u, { ip: "127.0.0.1", userAgent: "bench" })).cookie}`;
    return { dataDir: dir, viewer: await cookie(viewer), admin: await cookie(admin) };
  } finally {
    await deps.coordination.close();
    await deps.database.close();
  }
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return kb / 1024;
}

/** CPU time (user + system) a process has used so far, in milliseconds (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Measured {
  rssMiB: number;
  p99: Record<string, number>;
  p50: Record<string, number>;
  /** Server CPU time per request, µs. */
  cpuUs: Record<string, number>;
}

/** Start a server on a side's data, load each page one request at a time, then read its RSS. */
async function measure(side: Side, requests: number, settleMs: number, bin: string[]): Promise<Measured> {
  const port = freePort();
  const proc = Bun.spawn([...bin, "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MEDIANEST_DATA_DIR: side.dataDir,
      MEDIANEST_PORT: String(port),
      MEDIANEST_HOST: "127.0.0.1",
      MEDIANEST_LOG_LEVEL: "error",
      MEDIANEST_JOB_SCHEDULES: HOLD_WORKERS,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const started = performance.now();
    for (;;) {
      const status = await fetch(`${base}/readyz`).then(
        (r) => r.arrayBuffer().then(() => r.status),
        () => 0,
      );
      if (status === 200) break;
      if (proc.exitCode !== null) throw new Error(`bench: the server exited with ${proc.exitCode}`);
      if (performance.now() - started > 30_000) throw new Error("bench: the server was not ready within 30 s");
      await Bun.sleep(10);
    }
    const pages: [string, string][] = [
      ["/downloads", side.viewer],
      ["/admin/downloads", side.admin],
    ];
    const get = async (path: string, cookie: string) => {
      const res = await fetch(`${base}${path}`, { headers: { cookie }, redirect: "manual" });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`bench: GET ${path} answered ${res.status}`);
    };
    for (let i = 0; i < 30; i++) for (const [path, cookie] of pages) await get(path, cookie);
    const out: Measured = { rssMiB: 0, p99: {}, p50: {}, cpuUs: {} };
    for (const [path, cookie] of pages) {
      const latencies: number[] = [];
      const cpu0 = cpuMs(proc.pid);
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        await get(path, cookie);
        latencies.push(performance.now() - t0);
      }
      out.cpuUs[path] = ((cpuMs(proc.pid) - cpu0) * 1000) / requests;
      out.p99[path] = quantile(latencies, 0.99);
      out.p50[path] = quantile(latencies, 0.5);
    }
    // The heap gives the loads' garbage back some seconds after they end: the lowest sample of an idle while.
    const samples: number[] = [];
    const idleEnd = performance.now() + settleMs;
    while (performance.now() < idleEnd) {
      samples.push(rssMiB(proc.pid));
      await Bun.sleep(250);
    }
    out.rssMiB = Math.min(...samples);
    return out;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/**
 * Measure the server on a full queue against an empty one; returns the RSS figure and one p99 figure per page.
 * opts.bin: the command that runs MediaNest (default `bun src/main.ts`; a compiled binary works as well).
 */
export async function run(
  opts: { quick?: boolean; jobs?: number; rounds?: number; requests?: number; bin?: string[] } = {},
): Promise<Figure[]> {
  const jobs = opts.jobs ?? 10_000;
  const rounds = opts.rounds ?? (opts.quick ? 1 : 3);
  const requests = opts.requests ?? (opts.quick ? 200 : 500);
  const settleMs = opts.quick ? 8_000 : 15_000;
  const bin = opts.bin ?? ["bun", join(ROOT, "src", "main.ts")];
  const work = mkdtempSync(join(tmpdir(), "medianest-bench-queue-"));
  try {
    const library = mkdtempSync(join(work, "library-"));
    console.log(`bench: writing ${jobs} waiting downloads …`);
    const full = await prepare(join(work, "full"), jobs, library);
    const empty = await prepare(join(work, "empty"), 0, library);
    const fulls: Measured[] = [];
    const empties: Measured[] = [];
    for (let i = 0; i < rounds; i++) {
      // Who goes first alternates, so a busy phase of the machine falls on both.
      if (i % 2 === 0) {
        fulls.push(await measure(full, requests, settleMs, bin));
        empties.push(await measure(empty, requests, settleMs, bin));
      } else {
        empties.push(await measure(empty, requests, settleMs, bin));
        fulls.push(await measure(full, requests, settleMs, bin));
      }
      const [f, e] = [fulls[i]!, empties[i]!];
      console.log(
        `round ${i + 1}/${rounds}: RSS ${f.rssMiB.toFixed(1)} MiB with ${jobs} jobs, ${e.rssMiB.toFixed(1)} MiB empty; ` +
          Object.keys(f.p99)
            .map(
              (p) =>
                `${p} p50/p99 ${f.p50[p]!.toFixed(1)}/${f.p99[p]!.toFixed(1)} ms against ${e.p50[p]!.toFixed(1)}/${e.p99[p]!.toFixed(1)} ms, server CPU ${f.cpuUs[p]!.toFixed(0)} against ${e.cpuUs[p]!.toFixed(0)} µs per request`,
            )
            .join("; ") +
          `; load average ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    const rss = median(fulls.map((m) => m.rssMiB));
    const rssEmpty = median(empties.map((m) => m.rssMiB));
    const figures: Figure[] = [
      {
        name: `server RSS with ${jobs} waiting downloads`,
        unit: "MiB",
        value: rss,
        baseline: rssEmpty,
        ratio: rss / rssEmpty,
        target: `within ${TARGET_RSS_MIB} MiB of the empty queue`,
        met: rss - rssEmpty <= TARGET_RSS_MIB,
      },
    ];
    for (const path of Object.keys(fulls[0]!.p99)) {
      const p99 = median(fulls.map((m) => m.p99[path]!));
      const base = median(empties.map((m) => m.p99[path]!));
      figures.push({
        name: `GET ${path} p99 with ${jobs} waiting downloads`,
        unit: "ms",
        value: p99,
        baseline: base,
        ratio: p99 / base,
        target: `under ${TARGET_P99_MS} ms`,
        met: p99 < TARGET_P99_MS,
      });
      const cpu = median(fulls.map((m) => m.cpuUs[path]!));
      const cpuEmpty = median(empties.map((m) => m.cpuUs[path]!));
      figures.push({
        name: `GET ${path} server CPU per request with ${jobs} waiting downloads`,
        unit: "µs",
        value: cpu,
        baseline: cpuEmpty,
        ratio: cpu / cpuEmpty,
        target: "none (reported)",
        met: true,
      });
    }
    return figures;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  console.log(
    `bench: load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const quick = process.argv.includes("--quick");
  const figures = await run({
    quick,
    jobs: Number(arg("jobs", "10000")),
    rounds: Number(arg("rounds", quick ? "1" : "3")),
    requests: Number(arg("requests", quick ? "200" : "500")),
  });
  printFigures("The download queue's cost: a full queue against an empty one (same run)", figures);
  process.exit(0);
}
