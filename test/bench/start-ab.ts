// Benchmark (not a test): bun test/bench/start-ab.ts <binary A> <binary B>
// Compares the start of two builds of MediaNest (`bun run build`, then copy dist/medianest aside): time from spawn
// to the first 200 of /healthz and of /readyz, and idle RSS (VmRSS after five rounds of /healthz, /readyz, /,
// /metrics and one second idle), on a migrated SQLite database of each build's own. The builds take turns for
// BENCH_AB_ROUNDS rounds (default 10, the order flipped every round) after one discarded warm-up start each;
// BENCH_B_ENV="NAME=value,…" adds variables to B's runs (the same binary with an option set, for instance).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [binA, binB] = process.argv.slice(2);
if (!binA || !binB) {
  console.error("usage: bun test/bench/start-ab.ts <binary A> <binary B>");
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 10);
const extraB = Object.fromEntries(
  (process.env.BENCH_B_ENV ?? "")
    .split(",")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);

const work = mkdtempSync(join(tmpdir(), "medianest-start-ab-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

interface Build {
  name: "A" | "B";
  bin: string;
  env: Record<string, string>;
  dataDir: string;
  start: number[];
  ready: number[];
  rss: number[];
}
const builds: Build[] = [
  { name: "A", bin: binA, env: {}, dataDir: mkdtempSync(join(work, "a-")), start: [], ready: [], rss: [] },
  { name: "B", bin: binB, env: extraB, dataDir: mkdtempSync(join(work, "b-")), start: [], ready: [], rss: [] },
];

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function firstOk(url: string): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(1);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function run(b: Build, record: boolean): Promise<void> {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn([b.bin, "serve"], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MEDIANEST_DATA_DIR: b.dataDir,
      MEDIANEST_PORT: String(port),
      MEDIANEST_HOST: "127.0.0.1",
      ...b.env,
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  try {
    await firstOk(`${base}/healthz`);
    const start = performance.now() - t0;
    await firstOk(`${base}/readyz`);
    const ready = performance.now() - t0;
    for (let i = 0; i < 5; i++)
      for (const path of ["/healthz", "/readyz", "/", "/metrics"]) await (await fetch(base + path)).arrayBuffer();
    await Bun.sleep(1000);
    const rss = Number(readFileSync(`/proc/${proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
    if (record) {
      b.start.push(start);
      b.ready.push(ready);
      b.rss.push(rss);
    }
  } finally {
    clearTimeout(timer);
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

// The first start of each migrates its database and warms the page cache: not counted.
for (const b of builds) await run(b, false);
for (let round = 0; round < ROUNDS; round++)
  for (const b of round % 2 ? [...builds].reverse() : builds) await run(b, true);

const [a, b] = builds as [Build, Build];
const ratio = (key: "start" | "ready" | "rss") => median(a[key].map((x, i) => b[key][i]! / x));
for (const x of builds)
  console.log(
    `${x.name} ${x.bin}${Object.keys(x.env).length ? ` (${JSON.stringify(x.env)})` : ""}: start ${median(x.start).toFixed(1)} ms, ready ${median(x.ready).toFixed(1)} ms, idle RSS ${median(x.rss).toFixed(1)} MiB`,
  );
console.log(
  `B/A paired ratios (median of ${ROUNDS}): start ${ratio("start").toFixed(3)}, ready ${ratio("ready").toFixed(3)}, idle RSS ${ratio("rss").toFixed(3)}`,
);
