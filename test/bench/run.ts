// Benchmark (not a test): bun run bench
// Builds dist/medianest and two compiled baselines (bare Bun.serve, bare Hono), then measures start time, idle
// memory and the request rate of a full-stack page, prints a table against the targets, and writes
// docs/performance.md. Everything runs on loopback.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./figures";

const ROOT = join(import.meta.dir, "..", "..");
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 10);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 2);
const RATE_ROUNDS = Number(process.env.BENCH_RATE_ROUNDS ?? 7);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const MIB = 1024 * 1024;

interface Target {
  name: string;
  bin: string;
  args: string[];
  /** Path polled for the first 200, and requested before measuring idle memory. */
  readyPath: string;
  /** Polled after readyPath: the first 200 here means the whole server is ready (MediaNest: /readyz). */
  fullyReadyPath?: string;
  warmPaths: string[];
  env(port: number): Record<string, string>;
}

const work = mkdtempSync(join(tmpdir(), "medianest-bench-"));
const children = new Set<Bun.Subprocess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function sh(argv: string[], cwd = ROOT): Promise<void> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`bench: ${argv.join(" ")} failed (${code}):\n${out}\n${err}`);
}

/** Compile an entry file the way package.json's build script compiles MediaNest. */
async function compile(entry: string, outfile: string): Promise<void> {
  await sh(["bun", "build", "--compile", "--bytecode", "--minify", entry, "--outfile", outfile]);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

// /proc/<pid>/stat counts CPU time in clock ticks (USER_HZ, 100 on Linux).
const CLOCK_TICKS = 100;

/** The CPU time (user + system, in clock ticks) a process has used: unlike a rate, not raised by other load. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function spawnTarget(t: Target, port: number): Bun.Subprocess {
  const proc = Bun.spawn([t.bin, ...t.args], {
    cwd: work,
    env: t.env(port),
    stdin: "ignore",
    stdout: "ignore",
    stderr: "inherit",
  });
  children.add(proc);
  return proc;
}

async function stopTarget(proc: Bun.Subprocess): Promise<void> {
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "timeout" as const)]);
  if (code === "timeout") proc.kill("SIGKILL");
  await proc.exited;
  children.delete(proc);
}

/** Spawn, wait for the first 200 on readyPath; returns the process and milliseconds from spawn to that answer. */
async function startAndTime(t: Target, port: number): Promise<{ proc: Bun.Subprocess; ms: number }> {
  const url = `http://127.0.0.1:${port}${t.readyPath}`;
  const t0 = performance.now();
  const proc = spawnTarget(t, port);
  while (true) {
    try {
      const res = await fetch(url, { redirect: "manual" });
      await res.arrayBuffer();
      if (res.status === 200) return { proc, ms: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`bench: ${t.name} exited with ${proc.exitCode} before answering`);
    if (performance.now() - t0 > 20_000) throw new Error(`bench: ${t.name} did not answer ${t.readyPath} within 20 s`);
    await Bun.sleep(1);
  }
}

interface StartRuns {
  startMs: number;
  readyMs: number;
  rssMiB: number;
  starts: number[];
  readies: number[];
  rssRuns: number[];
}

/** Median start time (and time to fully ready) and idle RSS over runs, with every run's figures. */
async function measureStart(t: Target, runs = START_RUNS): Promise<StartRuns> {
  const starts: number[] = [];
  const readies: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = freePort();
    const t0 = performance.now();
    const { proc, ms } = await startAndTime(t, port);
    starts.push(ms);
    if (t.fullyReadyPath) {
      while (
        (await fetch(`http://127.0.0.1:${port}${t.fullyReadyPath}`).then((r) =>
          r.arrayBuffer().then(() => r.status),
        )) !== 200
      )
        await Bun.sleep(1);
      readies.push(performance.now() - t0);
    } else {
      readies.push(ms);
    }
    for (let j = 0; j < 5; j++) {
      for (const path of t.warmPaths) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: "manual" });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`bench: ${t.name} ${path} answered ${res.status}`);
      }
    }
    await Bun.sleep(1000);
    rss.push(rssMiB(proc.pid));
    await stopTarget(proc);
  }
  return { startMs: median(starts), readyMs: median(readies), rssMiB: median(rss), starts, readies, rssRuns: rss };
}

/** Runs of a and b taking turns, so the machine's load phases fall on both alike. */
async function measureStartsInTurn(a: Target, b: Target, runs: number): Promise<[StartRuns, StartRuns]> {
  const ra: StartRuns[] = [];
  const rb: StartRuns[] = [];
  for (let i = 0; i < runs; i++) {
    ra.push(await measureStart(a, 1));
    rb.push(await measureStart(b, 1));
  }
  const join = (rs: StartRuns[]): StartRuns => {
    const starts = rs.flatMap((r) => r.starts);
    const readies = rs.flatMap((r) => r.readies);
    const rssRuns = rs.flatMap((r) => r.rssRuns);
    return { startMs: median(starts), readyMs: median(readies), rssMiB: median(rssRuns), starts, readies, rssRuns };
  };
  return [join(ra), join(rb)];
}

/** The median of xs[i] / ys[i]: a ratio of runs made one right after the other. */
function pairedRatio(xs: number[], ys: number[]): number {
  return median(xs.map((x, i) => x / ys[i]!));
}

/** Requests per second of GET path with CONCURRENCY fetch loops for LOAD_SECONDS, after a short warm-up. */
async function measureRate(
  t: Target,
  path: string,
): Promise<{ rps: number; errors: number; p50: number; p99: number; cpuUs: number }> {
  const port = freePort();
  const { proc } = await startAndTime(t, port);
  const url = `http://127.0.0.1:${port}${path}`;
  const load = async (seconds: number, latencies?: number[]) => {
    let ok = 0;
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            const res = await fetch(url, { redirect: "manual" });
            await res.arrayBuffer();
            if (res.status === 200) ok++;
            else errors++;
          } catch {
            errors++;
          }
          latencies?.push(performance.now() - t0);
        }
      }),
    );
    return { ok, errors };
  };
  await load(0.5);
  const latencies: number[] = [];
  const t0 = performance.now();
  const cpu0 = cpuTicks(proc.pid);
  const { ok, errors } = await load(LOAD_SECONDS, latencies);
  const elapsed = (performance.now() - t0) / 1000;
  const cpuUs = ((cpuTicks(proc.pid) - cpu0) * 1e6) / CLOCK_TICKS / Math.max(ok, 1);
  await stopTarget(proc);
  if (ok === 0)
    throw new Error(`bench: ${t.name} GET ${path} never answered 200 (${errors} other answers or failures)`);
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / elapsed,
    errors,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    cpuUs,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");

console.log("bench: building dist/medianest and the baselines …");
await sh(["bun", "run", "build"]);
const bareBin = join(work, "bare-server");
const honoBin = join(work, "bare-hono");
await compile(join(import.meta.dir, "bare-server.ts"), bareBin);
await compile(join(import.meta.dir, "bare-hono.ts"), honoBin);

const dataDir = join(work, "data");
const medianestEnv = (dir: string) => (port: number) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  MEDIANEST_DATA_DIR: dir,
  MEDIANEST_PORT: String(port),
  MEDIANEST_HOST: "127.0.0.1",
});
const baseEnv = (port: number) => ({ PORT: String(port), HOST: "127.0.0.1" });
const medianest: Target = {
  name: "MediaNest",
  bin: join(ROOT, "dist", "medianest"),
  args: ["serve"],
  readyPath: "/healthz",
  fullyReadyPath: "/readyz",
  warmPaths: ["/healthz", "/readyz", "/", "/metrics"],
  env: medianestEnv(dataDir),
};
const bare: Target = { name: "bare Bun.serve", bin: bareBin, args: [], readyPath: "/", warmPaths: ["/"], env: baseEnv };
const hono: Target = { name: "bare Hono", bin: honoBin, args: [], readyPath: "/", warmPaths: ["/"], env: baseEnv };

// Start and memory on a migrated database (a restart, the usual case); first start measured apart.
// With an administrator the setup gate is passed and GET / renders the home page instead of redirecting.
const admin = Bun.spawnSync([medianest.bin, "create-admin", "bench"], {
  cwd: work,
  env: { ...medianest.env(8080), MEDIANEST_ADMIN_PASSWORD: "bench-password-1234" },
});
if (admin.exitCode !== 0) throw new Error(`bench: create-admin failed: ${admin.stderr}`);

console.log(`bench: start time and idle memory, ${START_RUNS} runs each, taking turns …`);
const [bareStart, mnStart] = await measureStartsInTurn(bare, medianest, START_RUNS);
let firstDirs = 0;
const firstStart = await measureStart(
  {
    ...medianest,
    name: "MediaNest first start",
    warmPaths: ["/healthz", "/readyz", "/metrics"],
    env: (port) => medianestEnv(join(work, `first-${firstDirs++}`))(port),
  },
  Math.max(3, Math.floor(START_RUNS / 2)),
);

// A reference for the page rate: bare Hono sending the very bytes and headers of MediaNest's GET /, so the figures
// show how much of the gap to a hello world is the response itself and how much is MediaNest's code.
const pageFile = join(work, "page.json");
{
  const port = freePort();
  const { proc } = await startAndTime(medianest, port);
  const res = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
  const headers = [...res.headers].filter(([name]) => name !== "date" && name !== "content-length");
  writeFileSync(pageFile, JSON.stringify({ status: res.status, headers, body: await res.text() }));
  await stopTarget(proc);
}
const barePage: Target = {
  name: "bare Hono with MediaNest's page",
  bin: honoBin,
  args: [],
  readyPath: "/",
  warmPaths: ["/"],
  env: (port) => ({ ...baseEnv(port), PAGE_FILE: pageFile }),
};

// The machine's other load comes and goes in phases of seconds: the servers take turns, round after round;
// each rate is the median of its rounds and each ratio the median of the rounds' ratios, so a noisy phase cannot
// land on one server alone.
console.log(
  `bench: request rate, ${CONCURRENCY} concurrent fetches, ${RATE_ROUNDS} rounds of ${LOAD_SECONDS} s per server …`,
);
type Rate = Awaited<ReturnType<typeof measureRate>>;
// BENCH_COMPARE=<binary>[,<binary>…]: other builds of MediaNest (a variant, the build before a change) take a turn
// in every round too, on the same data, and their GET / rate is given as a paired ratio to this build's.
const others: Target[] = (process.env.BENCH_COMPARE ?? "")
  .split(",")
  .filter(Boolean)
  .map((bin) => ({ ...medianest, name: bin, bin }));
const rounds: { hono: Rate; page: Rate; health: Rate; bytes: Rate; others: Rate[] }[] = [];
for (let r = 0; r < RATE_ROUNDS; r++) {
  const round = {
    hono: await measureRate(hono, "/"),
    page: await measureRate(medianest, "/"),
    health: await measureRate(medianest, "/healthz"),
    bytes: await measureRate(barePage, "/"),
    others: [] as Rate[],
  };
  for (const other of others) round.others.push(await measureRate(other, "/"));
  rounds.push(round);
}
const medianRate = (pick: (r: (typeof rounds)[number]) => Rate): Rate => {
  const all = rounds.map(pick).sort((a, b) => a.rps - b.rps);
  return { ...all[Math.floor(all.length / 2)]!, errors: all.reduce((n, x) => n + x.errors, 0) };
};
const honoRate = medianRate((r) => r.hono);
const mnRate = medianRate((r) => r.page);
const mnHealthRate = medianRate((r) => r.health);
const bytesRate = medianRate((r) => r.bytes);

// The fetch client above tops out near bare Hono's rate, so that rate is partly the client's. When wrk (a C load
// generator) is installed, the same pair is measured with it too: there the servers, not the client, set the pace.
async function wrkRate(t: Target, path: string): Promise<number> {
  const port = freePort();
  const { proc } = await startAndTime(t, port);
  const run = async (seconds: number) => {
    const w = Bun.spawn(["wrk", "-t1", "-c32", `-d${seconds}s`, `http://127.0.0.1:${port}${path}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(w.stdout).text();
    await w.exited;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    if (!Number.isFinite(rps)) throw new Error(`bench: wrk gave no rate:\n${out}`);
    if (/Non-2xx/.test(out)) throw new Error(`bench: ${t.name} answered wrk with errors:\n${out}`);
    return rps;
  };
  await run(1);
  const rps = await run(LOAD_SECONDS);
  await stopTarget(proc);
  return rps;
}
const wrkRounds: { hono: number; page: number }[] = [];
if (Bun.which("wrk")) {
  console.log(`bench: request rate with wrk, ${RATE_ROUNDS} rounds …`);
  for (let r = 0; r < RATE_ROUNDS; r++)
    wrkRounds.push({ hono: await wrkRate(hono, "/"), page: await wrkRate(medianest, "/") });
}
const pageRatio = pairedRatio(
  rounds.map((r) => r.page.rps),
  rounds.map((r) => r.hono.rps),
);
const healthRatio = pairedRatio(
  rounds.map((r) => r.health.rps),
  rounds.map((r) => r.hono.rps),
);
const bytesRatio = pairedRatio(
  rounds.map((r) => r.bytes.rps),
  rounds.map((r) => r.hono.rps),
);
const startRatio = pairedRatio(mnStart.starts, bareStart.starts);
const readyRatio = pairedRatio(mnStart.readies, bareStart.starts);
const rssRatio = pairedRatio(mnStart.rssRuns, bareStart.rssRuns);
const roundsText = rounds
  .map(
    (r, i) =>
      `round ${i + 1}: bare Hono ${fmt(r.hono.rps, 0)}, GET / ${fmt(r.page.rps, 0)}, GET /healthz ${fmt(r.health.rps, 0)}, page bytes ${fmt(r.bytes.rps, 0)}`,
  )
  .join("; ");

const targets = [
  {
    what: "start to first 200",
    measured: `${fmt(mnStart.startMs)} ms vs ${fmt(bareStart.startMs)} ms (${fmt(startRatio, 2)}x)`,
    target: "within 3x bare and under 100 ms",
    met: startRatio <= 3 && mnStart.startMs < 100,
  },
  {
    what: "idle RSS",
    measured: `${fmt(mnStart.rssMiB)} MiB vs ${fmt(bareStart.rssMiB)} MiB (${fmt(rssRatio, 2)}x)`,
    target: "within 2x bare and under 60 MiB",
    met: rssRatio <= 2 && mnStart.rssMiB < 60,
  },
  {
    what: "full-stack page rate",
    measured: `${fmt(mnRate.rps, 0)} req/s vs ${fmt(honoRate.rps, 0)} req/s (${fmt(pageRatio, 2)}x)`,
    target: "at least 0.5x bare Hono",
    met: pageRatio >= 0.5,
  },
];

const measurements = [
  "| measurement | MediaNest (median) | baseline (median) | ratio (median of paired runs) |",
  "| --- | ---: | ---: | ---: |",
  `| start to first 200 (median of ${START_RUNS}) | ${fmt(mnStart.startMs)} ms | ${fmt(bareStart.startMs)} ms (bare Bun.serve) | ${fmt(startRatio, 2)}x |`,
  `| start to ready: first 200 of /readyz, database open and migrated (median) | ${fmt(mnStart.readyMs)} ms | ${fmt(bareStart.startMs)} ms (bare Bun.serve) | ${fmt(readyRatio, 2)}x |`,
  `| first start on an empty data directory to ready (/readyz), with migrations (median) | ${fmt(firstStart.readyMs)} ms | ${fmt(bareStart.startMs)} ms (bare Bun.serve) | ${fmt(firstStart.readyMs / bareStart.startMs, 2)}x (of medians) |`,
  `| idle RSS after start, a few requests and 1 s idle (median) | ${fmt(mnStart.rssMiB)} MiB | ${fmt(bareStart.rssMiB)} MiB (bare Bun.serve) | ${fmt(rssRatio, 2)}x |`,
  `| GET / requests per second | ${fmt(mnRate.rps, 0)} | ${fmt(honoRate.rps, 0)} (bare Hono) | ${fmt(pageRatio, 2)}x |`,
  `| GET /healthz requests per second (all middleware, trivial handler) | ${fmt(mnHealthRate.rps, 0)} | ${fmt(honoRate.rps, 0)} (bare Hono GET /) | ${fmt(healthRatio, 2)}x |`,
  `| bare Hono sending GET /'s bytes and headers (reference: the response alone) | ${fmt(bytesRate.rps, 0)} | ${fmt(honoRate.rps, 0)} (bare Hono GET /) | ${fmt(bytesRatio, 2)}x |`,
  `| server CPU time per GET / (median; not raised by other load on the machine) | ${fmt(median(rounds.map((r) => r.page.cpuUs)), 1)} µs | ${fmt(median(rounds.map((r) => r.hono.cpuUs)), 1)} µs (bare Hono) | ${fmt(
    pairedRatio(
      rounds.map((r) => r.page.cpuUs),
      rounds.map((r) => r.hono.cpuUs),
    ),
    2,
  )}x |`,
  `| GET / latency p50 / p99 | ${fmt(mnRate.p50, 2)} / ${fmt(mnRate.p99, 2)} ms | ${fmt(honoRate.p50, 2)} / ${fmt(honoRate.p99, 2)} ms | |`,
  wrkRounds.length
    ? `| GET / requests per second, wrk load generator (not the target's method) | ${fmt(median(wrkRounds.map((r) => r.page)), 0)} | ${fmt(median(wrkRounds.map((r) => r.hono)), 0)} (bare Hono) | ${fmt(
        pairedRatio(
          wrkRounds.map((r) => r.page),
          wrkRounds.map((r) => r.hono),
        ),
        2,
      )}x |`
    : "| GET / requests per second, wrk load generator | (wrk is not installed) | | |",
].join("\n");
const verdicts = [
  "| target | measured | met |",
  "| --- | --- | --- |",
  ...targets.map((t) => `| ${t.what}: ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
].join("\n");

const cpuModel = cpus()[0]?.model ?? "unknown CPU";
const machine = `${availableParallelism()} CPUs (nproc; ${cpuModel}), ${fmt(totalmem() / 1024 / MIB)} GiB memory, Linux ${release()}, Bun ${Bun.version}; load average ${loadBefore} before the run`;
const date = new Date().toISOString().slice(0, 10);
const errors = mnRate.errors + honoRate.errors + mnHealthRate.errors + bytesRate.errors;

console.log(`\n${measurements}\n\n${verdicts}\n`);
console.log(`machine: ${machine}; ${date}${errors ? `; ${errors} failed requests during the rate runs` : ""}`);
console.log(`request rates: ${roundsText}`);
others.forEach((other, i) => {
  const rates = rounds.map((r) => r.others[i]!.rps);
  const ratio = pairedRatio(
    rates,
    rounds.map((r) => r.page.rps),
  );
  const cpu = rounds.map((r) => r.others[i]!.cpuUs);
  const cpuRatio = pairedRatio(
    cpu,
    rounds.map((r) => r.page.cpuUs),
  );
  console.log(
    `BENCH_COMPARE ${other.bin}: GET / ${fmt(median(rates), 0)} req/s, ${fmt(ratio, 3)}x this build's (paired median); ` +
      `server CPU per request ${fmt(median(cpu), 1)} µs vs ${fmt(median(rounds.map((r) => r.page.cpuUs)), 1)} µs, ${fmt(cpuRatio, 3)}x this build's; ` +
      `every round: ${rates.map((x) => fmt(x, 0)).join(", ")} req/s; ${cpu.map((x) => fmt(x, 1)).join(", ")} µs`,
  );
});
console.log(
  `start times (ms): MediaNest ${mnStart.starts.map((x) => fmt(x)).join(", ")}; bare ${bareStart.starts.map((x) => fmt(x)).join(", ")}`,
);

const doc = `# Performance

Written by \`bun run bench\` (test/bench/run.ts) on ${date}. Run it again after a change that could matter:
dependencies, start-up work, middleware, or what \`GET /\` does.

Machine: ${machine}.

## Targets

${verdicts}

## Measurements

${measurements}

Start times of every run (ms): MediaNest ${mnStart.starts.map((x) => fmt(x)).join(", ")};
bare Bun.serve ${bareStart.starts.map((x) => fmt(x)).join(", ")}.

Requests per second of every round: ${roundsText}.${errors ? `\n\n${errors} requests failed during the rate runs.` : ""}

## How it is measured

- All servers are compiled with \`bun build --compile --bytecode --minify\`: \`dist/medianest\` from
  \`bun run build\`, \`test/bench/bare-server.ts\` (a bare \`Bun.serve\` answering "hello"),
  \`test/bench/bare-hono.ts\` (a bare Hono app answering "hello", or the reference below). MediaNest's build adds code splitting
  (\`--format=esm --splitting\`: each command and page area is its own chunk inside the binary),
  \`--bytecode-order=src/main.order\` (its bytecode laid out in the order a recorded restart used it;
  \`bun run build:order\` records it again) and \`--compile-jit-policy=16\` (the JIT waits until start-up is over;
  the server restores the normal policy 250 ms after it answers). None of these would change a hello world.
- Start: time from spawning the process until the first 200 answer (\`/healthz\` for MediaNest, \`/\` for the
  bare server), polled every millisecond over loopback; the median of ${START_RUNS} runs. MediaNest takes its port
  before it loads its server code and opens the database, and loads them in steps with the event loop running
  between them, so \`/healthz\` (alive) answers while the rest of the start goes on. The start target is judged
  on that answer, as the target is written; the "start to ready" row beside it is the first 200 of \`/readyz\`
  (database open and migrated, the app built), from which pages are served. MediaNest starts on an
  already migrated SQLite database (a restart); the first-start row uses a new, empty data directory each run,
  so it includes creating the database, the migrations and the key file. Files are in the page cache after the
  first run, so these are warm-disk figures.
- Idle RSS: \`VmRSS\` from \`/proc/<pid>/status\` after the start, five rounds of requests (MediaNest:
  \`/healthz\`, \`/readyz\`, \`/\`, \`/metrics\`) and one second idle; the median over the same runs.
- Request rate: the server runs as its own process; this script keeps ${CONCURRENCY} \`fetch\` loops going against
  \`GET /\` for ${LOAD_SECONDS} s after a 0.5 s warm-up, over loopback, and counts 200 answers (redirects are not
  followed). Bare Hono, MediaNest's \`GET /\`, its \`GET /healthz\` and the reference below take turns for
  ${RATE_ROUNDS} rounds, each on a freshly started server.
- Server CPU time per \`GET /\`: the server process's user and system time (\`/proc/<pid>/stat\`) over the
  measured load, divided by the answers; other load on the machine raises it far less than it lowers a rate.
- \`BENCH_COMPARE=<binary>[,…]\`: other builds of MediaNest (a variant, the build before a change) take a turn in
  every rate round on the same data; their \`GET /\` rate and CPU time per request are printed as paired ratios to
  this build's (not written here).
- Reference: \`test/bench/bare-hono.ts\` with \`PAGE_FILE\` is bare Hono answering \`GET /\` with the status, headers and body MediaNest's
  \`GET /\` sent (captured once per run). Its ratio is what the response alone costs (a larger body, ten headers
  for the client to parse); the rest of the gap between it and MediaNest's \`GET /\` is MediaNest's middleware and
  page code.
- With wrk (a C load generator, one thread, 32 connections) installed, bare Hono and \`GET /\` are also measured
  with it, ${RATE_ROUNDS} rounds in turn. The fetch client tops out near bare Hono's rate, so its figure for bare Hono
  is partly the client's own limit; wrk is not, and its ratio shows what the servers themselves cost. The target
  is judged on the fetch client's figures, the method this benchmark has always used.
- Figures and ratios: this machine's other load comes and goes in phases of seconds, so the servers take turns
  (start runs alternate between bare Bun.serve and MediaNest, rate rounds between the servers). Each figure
  is the median of its runs; each ratio is the median of the ratios of runs made one right after the other, which
  a noisy phase moves far less than a ratio of medians. Both are printed; the targets are judged on the ratios. For MediaNest \`GET /\` is the anonymous home page (an administrator exists, so the setup gate lets
  it through): request log (to stdout, here /dev/null), security headers, body limit, session, CSRF token,
  database queries and the rendered page. \`GET /healthz\` goes through the same middleware to a handler that
  does nothing, which separates the middleware's cost from the page's own. The load generator shares the
  machine with the server, so on few cores both rates are lower than a separate client would see, and other
  load on the machine moves every figure; the ratios are the figures to watch.
`;
// Keep the sections other scripts and people write (test/bench/sse.ts's, the measured decisions); this script owns
// its own three.
const docPath = process.env.BENCH_DOC_PATH ?? join(ROOT, "docs", "performance.md");
const OWN_SECTIONS = new Set(["Targets", "Measurements", "How it is measured"]);
let kept = "";
try {
  const old = readFileSync(docPath, "utf8");
  for (const section of old.split(/\n(?=## )/).slice(1)) {
    const heading = section.slice(3, section.indexOf("\n")).trim();
    if (!OWN_SECTIONS.has(heading)) kept += `\n${section.replace(/\n*$/, "\n")}`;
  }
} catch {
  // no earlier file
}
writeFileSync(docPath, kept ? `${doc.replace(/\n*$/, "\n")}${kept}` : doc);
console.log("bench: wrote docs/performance.md");

// For `bun run bench:all`: this run's figures in the shape importable benchmarks return (test/bench/figures.ts).
if (process.env.BENCH_FIGURES_FILE) {
  const figures: Figure[] = [
    {
      name: "start to first 200",
      unit: "ms",
      value: mnStart.startMs,
      baseline: bareStart.startMs,
      ratio: startRatio,
      target: "within 3x bare Bun.serve and under 100 ms",
      met: targets[0]!.met,
    },
    {
      name: "start to ready (/readyz)",
      unit: "ms",
      value: mnStart.readyMs,
      baseline: bareStart.startMs,
      ratio: readyRatio,
      target: "none (reported)",
      met: true,
    },
    {
      name: "idle RSS",
      unit: "MiB",
      value: mnStart.rssMiB,
      baseline: bareStart.rssMiB,
      ratio: rssRatio,
      target: "within 2x bare Bun.serve and under 60 MiB",
      met: targets[1]!.met,
    },
    {
      name: "GET / anonymous: requests per second",
      unit: "req/s",
      value: mnRate.rps,
      baseline: honoRate.rps,
      ratio: pageRatio,
      target: "at least 0.5x bare Hono",
      met: targets[2]!.met,
    },
    {
      name: "GET /healthz (all middleware): requests per second",
      unit: "req/s",
      value: mnHealthRate.rps,
      baseline: honoRate.rps,
      ratio: healthRatio,
      target: "none (reported)",
      met: true,
    },
    {
      name: "server CPU time per GET / anonymous",
      unit: "µs",
      value: median(rounds.map((r) => r.page.cpuUs)),
      baseline: median(rounds.map((r) => r.hono.cpuUs)),
      ratio: pairedRatio(
        rounds.map((r) => r.page.cpuUs),
        rounds.map((r) => r.hono.cpuUs),
      ),
      target: "none (reported)",
      met: true,
    },
  ];
  writeFileSync(process.env.BENCH_FIGURES_FILE, JSON.stringify(figures));
}
