import type { Counter as CounterT, Gauge as GaugeT, Histogram as HistogramT, Registry as RegistryT } from "prom-client";
import Counter from "prom-client/lib/counter";
import Gauge from "prom-client/lib/gauge";
import Histogram from "prom-client/lib/histogram";
import Registry from "prom-client/lib/registry";
import { VERSION } from "../version";

// prom-client's index also loads its Pushgateway and cluster aggregator (node:http, node:cluster, zlib …), which
// MediaNest never uses: about 8 ms and several MiB at start. Only the parts used are imported, and the default
// process metrics (which load perf_hooks and v8 and walk the heap to name its spaces) are set up once the server
// answers, or at the first scrape if that comes sooner.
type Registry = RegistryT;
type Histogram<T extends string> = HistogramT<T>;
type Gauge<T extends string = string> = GaugeT<T>;
type Counter<T extends string> = CounterT<T>;

/** Every metric MediaNest exports, on one registry. */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  integrationUp: Gauge<"service">;
  integrationDuration: Histogram<"service">;
  integrationErrors: Counter<"service" | "kind">;
  liveStreams: Gauge;
  /** Register the default process metrics (idempotent); call soon after start, and before a scrape. */
  collectDefaults(): Promise<void>;
}

// These default gauges end in _total, which promtool rejects for a gauge.
const LINT_FAILING_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

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
  return {
    registry,
    collectDefaults,
    httpDuration: new Histogram({
      name: "medianest_http_request_duration_seconds",
      help: "HTTP request duration by route pattern.",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
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
