// Benchmark (not a test): bun run bench:all   (BENCH_QUICK=1: a short smoke run of everything)
// Runs every benchmark under test/bench/ one after the other and writes docs/performance.md:
// - test/bench/run.ts (start-up, idle RSS, GET / against bare Bun.serve and bare Hono; writes its own sections),
// - test/bench/sse.ts with 5,000 clients (writes its "SSE fan-out" section),
// - test/bench/cluster.ts (three replicas behind nginx on PostgreSQL and Redis),
// - every other module here that exports `run(opts?: { quick?: boolean }): Promise<Figure[]>` (test/bench/figures.ts),
//   found by reading the files: pages.ts, search.ts and whatever is added later.
// A benchmark that fails or cannot run here (no nginx, too few open files) is reported as such and the others go on.
// Then the "Summary" section: the machine (CPU, cores, memory, load before and after), every figure with its
// same-run baseline and ratio, and whether each met its target. With BENCH_QUICK=1 the figures are too short to
// mean anything: the report goes to a temporary file (printed) and docs/ is left alone.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Figure } from "./figures";

const ROOT = join(import.meta.dir, "..", "..");
const BENCH = import.meta.dir;
const QUICK = process.env.BENCH_QUICK === "1";
const work = mkdtempSync(join(tmpdir(), "medianest-bench-all-"));
const DOC = QUICK ? join(work, "performance.md") : join(ROOT, "docs", "performance.md");
// Scripts run as their own processes (top-level code), with their figures written to a file; the rest are imported.
const SCRIPTS = new Set(["run.ts", "sse.ts", "cluster.ts"]);
// Tools, helpers and comparisons of two builds given by hand: not benchmarks of this build.
const NOT_BENCHMARKS = new Set([
  "all.ts",
  "ab.ts",
  "start-ab.ts",
  "bytecode-order.ts",
  "request-histogram.ts",
  "figures.ts",
  "seed.ts",
  "query-count.ts",
  "profile-page.ts",
  "search-client.ts",
  "soak.ts",
]);

interface Outcome {
  name: string;
  figures: Figure[];
  /** Why it did not run or did not finish. */
  error?: string;
  seconds: number;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function script(file: string, args: string[], env: Record<string, string>): Promise<Figure[]> {
  const figuresFile = join(work, `${file}.json`);
  const proc = Bun.spawn(["bun", join(BENCH, file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_FIGURES_FILE: figuresFile },
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`exited with ${code} (its output is above)`);
  if (!existsSync(figuresFile)) throw new Error("finished without writing its figures");
  return JSON.parse(readFileSync(figuresFile, "utf8")) as Figure[];
}

/** The modules here that export a run() function, by their text (importing a script would run it). */
function importable(): string[] {
  return readdirSync(BENCH)
    .filter((f) => f.endsWith(".ts") && !f.startsWith("bare-") && !SCRIPTS.has(f) && !NOT_BENCHMARKS.has(f))
    .filter((f) => /^export (async )?function run\b|^export const run\b/m.test(readFileSync(join(BENCH, f), "utf8")))
    .sort();
}

function isFigure(x: unknown): x is Figure {
  const f = x as Figure;
  return typeof f?.name === "string" && typeof f.value === "number" && typeof f.met === "boolean";
}

const outcomes: Outcome[] = [];
async function step(name: string, body: () => Promise<Figure[]>): Promise<void> {
  console.log(`\nbench:all: ${name} …`);
  const t0 = performance.now();
  try {
    const figures = await body();
    const bad = figures.filter((f) => !isFigure(f));
    if (!Array.isArray(figures) || bad.length > 0) throw new Error("returned something else than a list of figures");
    outcomes.push({ name, figures, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    const error = (err as Error).message.split("\n")[0]!;
    console.error(`bench:all: ${name} did not finish: ${error}`);
    outcomes.push({ name, figures: [], error, seconds: (performance.now() - t0) / 1000 });
  }
}

const loadBefore = load();
const started = new Date();
const quickEnv: Record<string, string> = QUICK
  ? { BENCH_START_RUNS: "2", BENCH_RATE_ROUNDS: "1", BENCH_LOAD_SECONDS: "0.5", BENCH_QUICK: "1" }
  : {};
{
  // run.ts builds dist/medianest; everything after it uses that build.
  await step("test/bench/run.ts (start-up, idle memory, GET / for anonymous visitors)", () =>
    script("run.ts", [], { ...quickEnv, BENCH_DOC_PATH: DOC }),
  );
  process.env.BENCH_NO_BUILD = "1";
  for (const file of importable()) {
    await step(`test/bench/${file}`, async () => {
      const mod = (await import(join(BENCH, file))) as { run: (o: { quick?: boolean }) => Promise<unknown> };
      return (await mod.run({ quick: QUICK })) as Figure[];
    });
  }
  const clients = QUICK ? "500" : "5000";
  await step(`test/bench/sse.ts (${clients} SSE clients)`, () =>
    script("sse.ts", [`--clients=${clients}`, "--write-doc"], { BENCH_DOC_PATH: DOC }),
  );
  await step("test/bench/cluster.ts (three replicas behind nginx)", () =>
    script("cluster.ts", QUICK ? ["--clients=100", "--rounds=1", "--seconds=1"] : [], {}),
  );
}

const n = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
const all = outcomes.flatMap((o) => o.figures.map((f) => ({ ...f, from: o.name.split(" ")[0]! })));
const withTarget = all.filter((f) => !f.target.startsWith("none"));
const machine = [
  `- CPU: ${cpus()[0]?.model.trim() ?? "unknown"}, ${availableParallelism()} cores (nproc); ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; Linux ${release()}; Bun ${Bun.version}`,
  `- Load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`,
  `- Started ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, took ${(outcomes.reduce((s, o) => s + o.seconds, 0) / 60).toFixed(1)} min${QUICK ? "; BENCH_QUICK=1 (a smoke run: too short for its figures to mean anything)" : ""}`,
].join("\n");
const section = [
  "## Summary",
  "",
  `Written by \`bun run bench:all\` (test/bench/all.ts), which runs every benchmark under test/bench/ in turn.`,
  "Each figure is compared with a baseline measured in the same run (bare Bun.serve, bare Hono, the fake",
  "upstream asked directly, one replica, twice the rows), because the machine's other load moves every absolute",
  "figure; the ratio is the figure to watch. The sections below give the details and method of run.ts and sse.ts",
  "(cluster.ts writes docs/deploy.md when run with --write-doc); every other benchmark describes its method at the",
  "top of its file in test/bench/.",
  "",
  machine,
  "",
  `Targets met: ${withTarget.filter((f) => f.met).length} of ${withTarget.length}.`,
  "",
  "| benchmark | figure | value | same-run baseline | ratio | target | met |",
  "| --- | --- | ---: | ---: | ---: | --- | --- |",
  ...all.map(
    (f) =>
      `| ${f.from} | ${f.name} | ${n(f.value)} ${f.unit} | ${n(f.baseline)} ${f.unit} | ${f.ratio.toFixed(2)}x | ${f.target} | ${f.target.startsWith("none") ? "" : f.met ? "met" : "**not met**"} |`,
  ),
  "",
  ...outcomes.map(
    (o) =>
      `- ${o.name}: ${o.error ? `did not finish (${o.error})` : `${o.figures.length} figures`}, ${o.seconds.toFixed(0)} s`,
  ),
  "",
].join("\n");

// Keep every other section (run.ts's, sse.ts's, the measured decisions); the summary goes first.
let doc = existsSync(DOC) ? readFileSync(DOC, "utf8") : "# Performance\n";
const parts = doc.split(/\n(?=## )/);
const head = parts[0]!.replace(/\n*$/, "\n");
const rest = parts.slice(1).filter((p) => !p.startsWith("## Summary\n"));
doc = [head, section, ...rest.map((p) => p.replace(/\n*$/, "\n"))].join("\n");
writeFileSync(DOC, doc);
console.log(`\n${section}`);
console.log(`bench:all: wrote ${DOC}`);
if (!QUICK) rmSync(work, { recursive: true, force: true });
// A benchmark that did not finish is in the report; the exit code tells an unattended run about it too.
process.exit(outcomes.some((o) => o.error) ? 1 : 0);
