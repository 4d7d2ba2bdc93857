import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/options";
import type { App } from "../server/app";
import type { AppDeps } from "../app/deps";
import type { Logger } from "../app/logger";
import { SECURITY_HEADERS } from "../server/middleware/security";
import { setTracing, stopTracing } from "../telemetry/trace";
import { CliError } from "./errors";

/** Mark an answer as the last on its connection (Bun then closes it); a response with fixed headers is copied. */
async function lastOnConnection(answer: Response | Promise<Response>): Promise<Response> {
  const res = await answer;
  try {
    res.headers.set("connection", "close");
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set("connection", "close");
    return copy;
  }
}

/** Return the path of the file that marks a running server in a data directory. */
export function pidFile(dataDir: string): string {
  return join(dataDir, "medianest.pid");
}

// How long a page request that arrives during start-up waits for it before a 503 (SQLite starts in milliseconds;
// PostgreSQL may still be retried).
const START_WAIT_MS = 5000;

// The server counts as gone quiet after a check window with at most this many requests (a health check and a
// metrics scrape stay well under) that follows a busier one; it then hands back what the load left behind.
const QUIET_CHECK_MS = 30_000;
const QUIET_REQUESTS = 30;
const QUIET_GROWTH_BYTES = 2 * 1024 * 1024;

/**
 * Give back memory kept only for speed: SQLite's page cache, and (once JavaScriptCore is idle) the compiled code
 * and JIT code of everything that ran, after a full collection. Code that runs again is compiled again from its
 * bytecode; under load the hot paths are compiled within seconds.
 */
function releaseMemory(deps: AppDeps): void {
  deps.database.releaseMemory();
  Bun.shrink();
}

/** Let the event loop run (answer requests that have arrived) before the next step of start-up. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const startingHeaders = (type: string) => ({
  ...Object.fromEntries(SECURITY_HEADERS),
  "content-type": type,
  "cache-control": "no-store",
});

/**
 * Start the HTTP server and run until SIGTERM/SIGINT, then shut down gracefully.
 *
 * The port is taken first. While the database opens and migrates (PostgreSQL is retried with backoff), /healthz
 * says the process is alive and /readyz says it is not ready; other requests wait for the start to finish, or get a
 * 503 saying why once it takes longer than a few seconds.
 */
export async function serve(config: Config, log: Logger): Promise<number> {
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create the data directory ${config.dataDir}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let app: App | undefined;
  const { promise: appReady, resolve: setApp } = Promise.withResolvers<App>();
  const whileStarting = async (req: Request, srv: Bun.Server<undefined>): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz") return new Response("ok", { headers: startingHeaders("text/plain; charset=UTF-8") });
    if (path === "/readyz") {
      const body = { ready: false, database: "starting", migrations: "starting", coordination: "starting" };
      return new Response(JSON.stringify(body), { status: 503, headers: startingHeaders("application/json") });
    }
    const ready = await Promise.race([appReady, Bun.sleep(START_WAIT_MS).then(() => undefined)]);
    if (ready) return ready.fetch(req, { server: srv });
    return new Response("MediaNest is starting and is still waiting for its database. Try again in a moment.", {
      status: 503,
      headers: { ...startingHeaders("text/plain; charset=UTF-8"), "retry-after": "5" },
    });
  };

  // While draining every answer closes its connection, so a proxy holds no idle connection to this replica when the
  // listener closes: a request written on one as the replica closes it would be lost (not retried, if a POST).
  // In the drain's last second (its last half, if shorter) a GET or HEAD other than the health checks is refused
  // with a 503 instead: a proxy that checks no /readyz but retries them (nginx's proxy_next_upstream http_503) sends
  // it to another replica and marks this one failed, so it sends nothing more, a POST neither, before the listener
  // closes. A balancer that checks /readyz stopped sending before that.
  let closing = false;
  let refusing = false;
  const whileDraining = (req: Request, srv: Bun.Server<undefined>): Promise<Response> => {
    if (refusing && (req.method === "GET" || req.method === "HEAD")) {
      const path = new URL(req.url).pathname;
      if (path !== "/healthz" && path !== "/readyz")
        return Promise.resolve(
          new Response("MediaNest is restarting; try again.", {
            status: 503,
            headers: { ...startingHeaders("text/plain; charset=UTF-8"), "retry-after": "1", connection: "close" },
          }),
        );
    }
    return lastOnConnection(app!.fetch(req, { server: srv }));
  };

  // Requests since the last quiet check (releaseMemory above).
  let served = 0;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      fetch: (req, srv) => {
        served++;
        return app ? (closing ? whileDraining(req, srv) : app.fetch(req, { server: srv })) : whileStarting(req, srv);
      },
      // SSE streams send heartbeats well within this.
      idleTimeout: 60,
      maxRequestBodySize: config.bodyLimit + 1024,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new CliError(`port ${config.port} is already in use; set MEDIANEST_PORT to another port`);
    throw new CliError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }

  const { promise: stopped, resolve } = Promise.withResolvers<number>();
  let stopping = false;
  let jobsStart: ReturnType<typeof setTimeout> | undefined;
  let quietCheck: ReturnType<typeof setInterval> | undefined;
  // The server's code loads after the port is taken, in steps with the event loop running between them, so a health
  // check that arrives meanwhile is answered at once instead of waiting behind the whole start.
  const runtime = (async () => {
    await nextTurn();
    // The database layer (drizzle and the tables) is the largest step: loaded on its own.
    await import("../db/database");
    await nextTurn();
    const { startRuntime } = await import("../server/runtime");
    await nextTurn();
    return startRuntime(config, log);
  })();
  let endDrain: (() => void) | undefined;
  const shutdown = async (signal: string) => {
    // A second signal cuts the drain short (an impatient Ctrl-C).
    if (stopping) return endDrain?.();
    stopping = true;
    // Between SIGTERM and closing the listener /readyz answers 503, so a load balancer stops sending, while everything
    // else is still served; medianest_ready reads the same readiness, so it says 0 as well. (While starting, /readyz
    // says 503 already.)
    void runtime.then(
      (d) => d.readiness.drain(),
      () => {},
    );
    closing = true;
    if (config.drainDelay > 0) {
      log.info("draining: /readyz answers 503 before the listener closes", { signal, seconds: config.drainDelay });
      const { promise, resolve } = Promise.withResolvers<void>();
      endDrain = resolve;
      const refuse = setTimeout(
        () => {
          refusing = true;
        },
        (config.drainDelay - Math.min(1, config.drainDelay / 2)) * 1000,
      );
      await Promise.race([Bun.sleep(config.drainDelay * 1000), promise]);
      clearTimeout(refuse);
    }
    log.info("shutting down", { signal });
    const graceful = server.stop(false);
    const deps = await runtime.catch(() => undefined);
    // Live streams never finish on their own; end them so in-flight requests can drain.
    deps?.live.closeAll();
    const timeout = Bun.sleep(config.shutdownTimeout * 1000).then(() => "timeout" as const);
    if ((await Promise.race([graceful.then(() => "done" as const), timeout])) === "timeout") {
      log.warn("in-flight requests did not finish in time; closing them");
      await server.stop(true);
    }
    clearTimeout(jobsStart);
    clearInterval(quietCheck);
    if (deps) await closeRuntime(deps, config);
    log.info("stopped");
    resolve(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  let deps: AppDeps;
  try {
    deps = await runtime;
  } catch (err) {
    await server.stop(true);
    throw err;
  }
  if (stopping) return stopped;
  await nextTurn();
  // The OpenTelemetry SDK is loaded only when traces are wanted (a server without them never evaluates it), and
  // only now: requests are traced from the app on, and /healthz answered meanwhile need not wait for it.
  if (config.otlpEndpoint) {
    const { startTracing } = await import("../telemetry/otel");
    setTracing(startTracing({ endpoint: config.otlpEndpoint, serviceName: config.otelServiceName }));
    log.info("tracing: spans go to the OTLP collector", { endpoint: config.otlpEndpoint });
    await nextTurn();
  }
  app = (await import("../server/app")).createApp(deps);
  setApp(app);
  if (deps.database.dialect === "sqlite") writeFileSync(pidFile(config.dataDir), String(process.pid));
  // Setting up the schedules and the process metrics takes a few milliseconds; the first requests should not
  // wait behind them.
  jobsStart = setTimeout(() => {
    deps.jobs.start();
    void deps.metrics.collectDefaults();
    // The binary starts with the JIT reluctant to compile (package.json's build: --compile-jit-policy), because
    // start-up code runs once; from here on the server's code runs hot.
    Bun.unsafe.setJITPolicy(1);
    // What start-up left behind (module evaluation, migrations, schemas, code that ran once) is garbage from here
    // on; an idle server allocates too little to trigger a collection, so give it back once now rather than hold it.
    releaseMemory(deps);
    // Given back again when the server goes quiet after being busy, or while quiet once it has grown again (a job
    // run, a burst too short to count as busy): what the previous release left is the floor it is measured against.
    let busy = false;
    let floor = Number.POSITIVE_INFINITY;
    quietCheck = setInterval(() => {
      const quiet = served <= QUIET_REQUESTS;
      served = 0;
      if (!quiet) {
        busy = true;
        return;
      }
      const rss = process.memoryUsage.rss();
      if (busy || rss > floor + QUIET_GROWTH_BYTES) {
        busy = false;
        floor = Number.POSITIVE_INFINITY;
        releaseMemory(deps);
      } else floor = Math.min(floor, rss);
    }, QUIET_CHECK_MS);
    quietCheck.unref();
  }, 250);
  const url = config.publicUrl ?? `http://localhost:${server.port}`;
  log.info("MediaNest is running", {
    url,
    database: deps.database.dialect,
    coordination: deps.coordination.kind,
    pid: process.pid,
  });
  return stopped;
}

async function closeRuntime(deps: AppDeps, config: Config): Promise<void> {
  // Jobs first: a download-queue tick still running could otherwise start the workers after they were stopped.
  await deps.jobs.stop();
  // Loaded with the jobs already; running downloads hand their items back (partial files stay for --continue).
  await (await import("../jobs/download-queue")).stopDownloadWorkers(deps);
  await deps.coordination.close().catch(() => {});
  await deps.database.close().catch(() => {});
  if (deps.database.dialect === "sqlite") rmSync(pidFile(config.dataDir), { force: true });
  // The last spans (the shutdown's own requests and jobs) go out before the process ends.
  await stopTracing().catch(() => {});
}
