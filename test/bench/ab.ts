// Benchmark (not a test): bun run bench:ab <binary A> <binary B> [path]
// Compares two builds of MediaNest (`bun run build`, then copy dist/medianest aside) on one page, `GET /` unless
// told otherwise. The two take turns for ROUNDS rounds, each run on a freshly started server with the same migrated
// database; per run it counts requests per second and the server's CPU time per request (utime + stime from
// /proc/<pid>/stat). Other load on the machine moves the rate a lot and the CPU time per request far less, so a
// decision ("does this change cost more than 5 % of the page rate?") is read from the paired CPU ratio first.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [binA, binB, path = "/"] = process.argv.slice(2);
if (!binA || !binB) {
  console.error("usage: bun run bench:ab <binary A> <binary B> [path]");
  process.exit(2);
}
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 10);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const TICK_MS = 10; // /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on Linux

const work = mkdtempSync(join(tmpdir(), "medianest-ab-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
// Each build gets its own data directory: a newer build migrates its database past what an older one opens.
const dataDir = (bin: string) => join(work, bin === binA ? "data-a" : "data-b");
const env = (bin: string, port: number) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  MEDIANEST_DATA_DIR: dataDir(bin),
  MEDIANEST_PORT: String(port),
  MEDIANEST_HOST: "127.0.0.1",
});

// With an administrator the setup gate is passed and GET / renders the home page instead of redirecting.
// BENCH_AB_SEED=1: each data directory is seeded instead (test/bench/seed.ts, the schema of this checkout) and the
// page is read signed in, as the member with the most rows (BENCH_AB_ADMIN=1: as the administrator).
const cookies = new Map<string, string>();
for (const bin of [binA, binB]) {
  if (process.env.BENCH_AB_SEED === "1") {
    const { seedDataDir } = await import("./seed");
    const seed = await seedDataDir(dataDir(bin), { integrationsAt: "http://127.0.0.1:9" });
    cookies.set(bin, `mn_session=${(process.env.BENCH_AB_ADMIN === "1" ? seed.admin : seed.member).cookie}`);
    continue;
  }
  const admin = Bun.spawnSync([bin, "create-admin", "bench"], {
    cwd: work,
    env: { ...env(bin, 8080), MEDIANEST_ADMIN_PASSWORD: "bench-password-1234" },
  });
  if (admin.exitCode !== 0) throw new Error(`bench: create-admin failed for ${bin}: ${admin.stderr}`);
}

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

/** CPU time the process has used so far, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

interface Run {
  rps: number;
  cpuUsPerRequest: number;
}

async function measure(bin: string): Promise<Run> {
  const port = freePort();
  const proc = Bun.spawn([bin, "serve"], { cwd: work, env: env(bin, port), stdout: "ignore", stderr: "inherit" });
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    try {
      const res = await fetch(`${base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 20_000) throw new Error(`bench: ${bin} was not ready within 20 s`);
    await Bun.sleep(5);
  }
  const load = async (seconds: number) => {
    let ok = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const cookie = cookies.get(bin);
          const res = await fetch(`${base}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
          await res.arrayBuffer();
          if (res.status === 200) ok++;
        }
      }),
    );
    return ok;
  };
  await load(0.5);
  const t0 = performance.now();
  const cpu0 = cpuMs(proc.pid);
  const ok = await load(LOAD_SECONDS);
  const cpu = cpuMs(proc.pid) - cpu0;
  const seconds = (performance.now() - t0) / 1000;
  proc.kill("SIGTERM");
  await proc.exited;
  if (ok === 0) throw new Error(`bench: ${bin} never answered GET ${path} with 200`);
  return { rps: ok / seconds, cpuUsPerRequest: (cpu * 1000) / ok };
}

console.log(
  `bench: ${ROUNDS} rounds of GET ${path}, ${CONCURRENCY} concurrent fetches for ${LOAD_SECONDS} s, A and B in turn …`,
);
const runsA: Run[] = [];
const runsB: Run[] = [];
for (let i = 0; i < ROUNDS; i++) {
  // Who goes first alternates, so a load phase that favours the first (or second) run of a round falls on both.
  if (i % 2 === 0) {
    runsA.push(await measure(binA));
    runsB.push(await measure(binB));
  } else {
    runsB.push(await measure(binB));
    runsA.push(await measure(binA));
  }
  const [a, b] = [runsA[i]!, runsB[i]!];
  console.log(
    `round ${i + 1}: A ${a.rps.toFixed(0)} req/s, ${a.cpuUsPerRequest.toFixed(1)} µs CPU per request; ` +
      `B ${b.rps.toFixed(0)} req/s, ${b.cpuUsPerRequest.toFixed(1)} µs CPU per request`,
  );
}
const summary = (runs: Run[]) =>
  `${median(runs.map((r) => r.rps)).toFixed(0)} req/s, ${median(runs.map((r) => r.cpuUsPerRequest)).toFixed(1)} µs CPU per request (medians)`;
console.log(`A (${binA}): ${summary(runsA)}`);
console.log(`B (${binB}): ${summary(runsB)}`);
const rate = median(runsB.map((b, i) => b.rps / runsA[i]!.rps));
const cpu = median(runsB.map((b, i) => b.cpuUsPerRequest / runsA[i]!.cpuUsPerRequest));
console.log(
  `B against A, median of the rounds' ratios: page rate ${rate.toFixed(3)}x, CPU per request ${cpu.toFixed(3)}x`,
);
