// Benchmark (not a test): bun test/bench/request-histogram.ts
// Compares, in one process, the request histogram MediaNest uses (the hand-written RequestDurations of
// src/metrics/metrics.ts) with prom-client's own Histogram with its label children cached per series (below):
// nanoseconds per observation over a realistic mix of series, and the in-process rate of GET / (app.fetch, no
// sockets) with each installed, in alternating rounds; both counted in this process's CPU time, which other
// processes do not inflate. The rule (docs/architecture.md): prom-client's unless the hand-written one saves more
// than 5 % of the page rate.
import type { Registry } from "prom-client";
import PromRegistry from "prom-client/lib/registry";
import Histogram from "prom-client/lib/histogram";
import { RequestDurations } from "../../src/metrics/metrics";
import { createTestApp, givenUser } from "../helpers/test-app";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const OBSERVATIONS = Number(process.env.BENCH_OBSERVATIONS ?? 2_000_000);
const PAGE_MS = Number(process.env.BENCH_PAGE_MS ?? 1500);

/** prom-client's Histogram with a child (`histogram.labels(...)`) made once per series and kept. */
function promClientDurations(registry: Registry): Pick<RequestDurations, "observe"> {
  const histogram = new Histogram({
    name: "medianest_http_request_duration_seconds",
    help: "HTTP request duration by route pattern.",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const children = new Map<string, ReturnType<typeof histogram.labels>>();
  return {
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let child = children.get(key);
      if (!child) {
        child = histogram.labels(method, route, String(status));
        children.set(key, child);
      }
      child.observe(seconds);
    },
  };
}

type Observer = Pick<RequestDurations, "observe">;

// What a busy server observes: a few hot pages, static files, health checks, some forms and 404s.
const SERIES: [string, string, number][] = [
  ["GET", "/", 200],
  ["GET", "/", 200],
  ["GET", "/", 200],
  ["GET", "/static/:file", 200],
  ["GET", "/static/:file", 200],
  ["GET", "/healthz", 200],
  ["GET", "/readyz", 200],
  ["GET", "/dashboard", 200],
  ["GET", "/status", 200],
  ["GET", "/events", 200],
  ["POST", "/login", 303],
  ["POST", "/login", 401],
  ["GET", "unmatched", 404],
  ["GET", "/account", 200],
  ["POST", "/account/password", 422],
  ["GET", "/img/plex", 200],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// CPU time of this process, in microseconds: on a shared machine, wall time counts the other processes too.
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU nanoseconds per observation over OBSERVATIONS observations of the mix. */
function microRound(h: Observer): number {
  const t0 = cpuMicros();
  for (let i = 0; i < OBSERVATIONS; i++) {
    const [method, route, status] = SERIES[i & 15]!;
    h.observe(method, route, status, (i % 997) / 10_000);
  }
  return ((cpuMicros() - t0) * 1000) / OBSERVATIONS;
}

const variants: [string, (r: Registry) => Observer][] = [
  ["prom-client, cached children", (r) => promClientDurations(r)],
  ["hand-written", (r) => new RequestDurations(r)],
];

// Same output: both histograms fed alike must export the same text.
{
  const texts = await Promise.all(
    variants.map(async ([, make]) => {
      const registry = new PromRegistry();
      const h = make(registry);
      for (let i = 0; i < 5000; i++) h.observe(...SERIES[i & 15]!, (i % 997) / 100);
      return registry.metrics();
    }),
  );
  if (texts[0] !== texts[1]) throw new Error("bench: the two histograms export different text");
}

const micro = variants.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  variants.forEach(([, make], i) => micro[i]!.push(microRound(make(new PromRegistry()))));
}

const t = await createTestApp();
await givenUser(t.deps, { role: "admin" });
const request = () => new Request("http://localhost/");
const pageRound = async (h: Observer): Promise<number> => {
  t.deps.metrics.httpDuration = h as RequestDurations;
  for (let i = 0; i < 200; i++) await (await t.app.fetch(request())).arrayBuffer();
  let pages = 0;
  const cpu0 = cpuMicros();
  const end = performance.now() + PAGE_MS;
  while (performance.now() < end) {
    const res = await t.app.fetch(request());
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bench: GET / answered ${res.status}`);
    pages++;
  }
  return pages / ((cpuMicros() - cpu0) / 1e6);
};
const rates = variants.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so a load phase of the machine falls on both alike.
  const order = round % 2 ? [1, 0] : [0, 1];
  for (const i of order) rates[i]!.push(await pageRound(variants[i]![1](new PromRegistry())));
}
await t.close();

const [promNs, ownNs] = micro.map(median) as [number, number];
const [promRate, ownRate] = rates.map(median) as [number, number];
const paired = median(rates[1]!.map((own, i) => own / rates[0]![i]!));
const pageNs = 1e9 / promRate;
const fmt = (n: number) => n.toFixed(0);
console.log(`request histogram, ${ROUNDS} rounds; ${OBSERVATIONS} observations of ${SERIES.length} series a round`);
console.log("| measurement | prom-client, cached children | hand-written | hand-written / prom-client |");
console.log("| --- | ---: | ---: | ---: |");
console.log(
  `| CPU ns per observation (median) | ${promNs.toFixed(1)} | ${ownNs.toFixed(1)} | ${(ownNs / promNs).toFixed(2)}x |`,
);
console.log(
  `| GET / in process, pages per CPU second (median) | ${fmt(promRate)} | ${fmt(ownRate)} | ${paired.toFixed(3)}x (paired) |`,
);
console.log(
  `observation difference as a share of an in-process page: ${(((promNs - ownNs) / pageNs) * 100).toFixed(2)} %; ` +
    `page-rate gain of the hand-written one: ${((paired - 1) * 100).toFixed(1)} % (keep it only above 5 %)`,
);
console.log(
  `CPU ns per observation, every round: prom-client ${micro[0]!.map((x) => x.toFixed(1)).join(", ")}; hand-written ${micro[1]!.map((x) => x.toFixed(1)).join(", ")}`,
);
console.log(
  `pages per CPU second, every round: prom-client ${rates[0]!.map(fmt).join(", ")}; hand-written ${rates[1]!.map(fmt).join(", ")}`,
);
