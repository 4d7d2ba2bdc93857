import type { Counter as CounterT, Gauge as GaugeT, Histogram as HistogramT, Registry as RegistryT } from "prom-client";
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Histogram from "prom-client/lib/histogram";
import Registry from "prom-client/lib/registry";
import { VERSION } from "../version";

// prom-client's index also loads its Pushgateway and cluster aggregator (node:http, node:cluster, zlib …), which
// MediaNest never uses, at a cost in start time and memory. Only the parts used are imported, and the default
// process metrics (which load perf_hooks and v8 and walk the heap to name its spaces) are set up once the server
// answers, or at the first scrape if that comes sooner.
type Registry = RegistryT;
type Histogram<T extends string> = HistogramT<T>;
type Gauge<T extends string = string> = GaugeT<T>;
type Counter<T extends string> = CounterT<T>;

/** Every metric MediaNest exports, on one registry. */
export interface Metrics {
  registry: Registry;
  httpDuration: RequestDurations;
  integrationUp: Gauge<"service">;
  integrationDuration: Histogram<"service">;
  integrationErrors: Counter<"service" | "kind">;
  liveStreams: Gauge;
  jobRuns: Counter<"job" | "outcome">;
  downloadedBytes: Counter<never>;
  /** Where the gauges read at scrape time come from (set by the runtime; unset, they export nothing). */
  sources: MetricSources;
  /** Register the default process metrics (idempotent); call soon after start, and before a scrape. */
  collectDefaults(): Promise<void>;
}

/** What /readyz answers and medianest_ready exports: one report, from one place. */
export type ReadinessReport =
  | { ready: false; draining: true }
  | { ready: boolean; draining: false; database: boolean; migrations: boolean; coordination: boolean };

/** The shared state some gauges report, read at each scrape (every replica reports the same values). */
export interface MetricSources {
  jobs?: () => Promise<{ jobId: string; lastFinishedAt: Date | null; lastStatus: string | null }[]>;
  downloadQueue?: () => Promise<{ counts: Record<string, number>; oldestQueuedAt: Date | null }>;
  /** What /readyz answers, on this replica (the same report: draining included). */
  readiness?: () => Promise<ReadinessReport>;
  /** The newest backup in the backup directory. */
  lastBackup?: () => Promise<{ at: Date; bytes: number } | undefined>;
}

// These default gauges end in _total, which promtool rejects for a gauge.
const LINT_FAILING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** Create the registry with HTTP and integration metrics and build info; default process metrics follow. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  let defaults: Promise<void> | undefined;
  const collectDefaults = () =>
    (defaults ??= import("prom-client/lib/defaultMetrics").then(({ default: collectDefaultMetrics }) => {
      collectDefaultMetrics({ register: registry });
      for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
    }));
  const build = new Gauge({
    name: "medianest_build_info",
    help: "MediaNest build information; always 1.",
    labelNames: ["version", "runtime"],
    registers: [registry],
  });
  build.set({ version: VERSION, runtime: `bun ${Bun.version}` }, 1);
  const sources: MetricSources = {};
  // A failed source leaves its gauges empty for that scrape rather than failing the whole scrape.
  const read = async <T>(source: (() => Promise<T>) | undefined): Promise<T | undefined> => {
    try {
      return await source?.();
    } catch {
      return undefined;
    }
  };
  // Each gauge reads its source itself: the registry collects its metrics concurrently.
  const fromSource = <T, L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    source: () => (() => Promise<T>) | undefined,
    fill: (g: Gauge<L>, value: T) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const value = await read(source());
        this.reset();
        if (value !== undefined) fill(this, value);
      },
    });
  fromSource(
    "medianest_ready",
    "Whether this replica is ready (1), as /readyz answers 200, or not (0): 0 from SIGTERM on, while it drains.",
    [],
    () => sources.readiness,
    (g, r) => g.set(r.ready ? 1 : 0),
  );
  fromSource(
    "medianest_readiness_check",
    "Each check /readyz makes on this replica: up or current (1), or not (0); none while it drains.",
    ["check"],
    () => sources.readiness,
    (g, r) => {
      if (r.draining) return;
      for (const check of ["database", "migrations", "coordination"] as const) g.set({ check }, r[check] ? 1 : 0);
    },
  );
  fromSource(
    "medianest_job_last_finished_timestamp_seconds",
    "When each scheduled job last finished (any replica), as a Unix time.",
    ["job"],
    () => sources.jobs,
    (g, runs) => {
      for (const r of runs) if (r.lastFinishedAt) g.set({ job: r.jobId }, r.lastFinishedAt.getTime() / 1000);
    },
  );
  fromSource(
    "medianest_job_last_run_failed",
    "Whether each scheduled job's last run (any replica) failed (1) or not (0).",
    ["job"],
    () => sources.jobs,
    (g, runs) => {
      for (const r of runs) if (r.lastStatus) g.set({ job: r.jobId }, r.lastStatus === "failed" ? 1 : 0);
    },
  );
  fromSource(
    "medianest_download_items",
    "Download items by status (queued, downloading, processing, completed, failed, cancelled).",
    ["status"],
    () => sources.downloadQueue,
    (g, q) => {
      for (const [status, n] of Object.entries(q.counts)) g.set({ status }, n);
    },
  );
  fromSource(
    "medianest_download_oldest_queued_seconds",
    "Age of the oldest queued download item; 0 when none waits.",
    [],
    () => sources.downloadQueue,
    (g, q) => g.set(q.oldestQueuedAt ? Math.max(0, (Date.now() - q.oldestQueuedAt.getTime()) / 1000) : 0),
  );
  fromSource(
    "medianest_backup_last_success_timestamp_seconds",
    "When the newest backup in the backup directory was written, as a Unix time.",
    [],
    () => sources.lastBackup,
    (g, b) => {
      if (b) g.set(b.at.getTime() / 1000);
    },
  );
  fromSource(
    "medianest_backup_size_bytes",
    "Size of the newest backup in the backup directory.",
    [],
    () => sources.lastBackup,
    (g, b) => {
      if (b) g.set(b.bytes);
    },
  );
  return {
    sources,
    jobRuns: new Counter({
      name: "medianest_job_runs_total",
      help: "Scheduled job runs on this replica by outcome (ok, failed, skipped).",
      labelNames: ["job", "outcome"],
      registers: [registry],
    }),
    downloadedBytes: new Counter({
      name: "medianest_download_completed_bytes_total",
      help: "Bytes of download items completed on this replica.",
      registers: [registry],
    }),
    registry,
    collectDefaults,
    httpDuration: new RequestDurations(registry),
    integrationUp: new Gauge({
      name: "medianest_integration_up",
      help: "Whether the last check of an integration succeeded (1) or failed (0).",
      labelNames: ["service"],
      registers: [registry],
    }),
    integrationDuration: new Histogram({
      name: "medianest_integration_request_duration_seconds",
      help: "Duration of requests to integrations.",
      labelNames: ["service"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    liveStreams: new Gauge({
      name: "medianest_live_streams",
      help: "Open live-update (SSE) streams on this replica.",
      registers: [registry],
    }),
    integrationErrors: new Counter({
      name: "medianest_integration_errors_total",
      help: "Failed requests to integrations by kind (network, timeout, refused, unauthorized, bad_response).",
      labelNames: ["service", "kind"],
      registers: [registry],
    }),
  };
}

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One series of the request histogram: counts per bucket (not cumulative), with the +Inf bucket last. */
interface RequestSeries {
  labels: { method: string; route: string; status: string };
  buckets: Float64Array;
  sum: number;
  count: number;
}

// Kept over prom-client's Histogram with cached children, which validates and hashes the labels on every
// observation: test/bench/request-histogram.ts measures this one saving more than 5 % of the page rate.
/**
 * medianest_http_request_duration_seconds, observed on every request: a series is found by one string key and an
 * observation is a bucket search and three additions. Registered on the same registry and exported in the same
 * shape as prom-client's own histograms.
 */
export class RequestDurations {
  readonly name = "medianest_http_request_duration_seconds";
  readonly help = "HTTP request duration by route pattern.";
  readonly type = "histogram";
  readonly aggregator = "sum";
  private series = new Map<string, RequestSeries>();

  constructor(registry: Registry) {
    registry.registerMetric(this as never);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: { method, route, status: String(status) },
        buckets: new Float64Array(REQUEST_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[i]!) i++;
    s.buckets[i]! += 1;
    s.sum += seconds;
    s.count += 1;
  }

  /** The series as prom-client's registry formats them: le first, then the series' labels. */
  getForPromString() {
    const bucket = `${this.name}_bucket`;
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
    }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      REQUEST_BUCKETS.forEach((le, i) => {
        acc += s.buckets[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same with every label on each value (prom-client's JSON form). */
  get() {
    const data = this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })),
    };
  }

  reset(): void {
    this.series.clear();
  }
}
