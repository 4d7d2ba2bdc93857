import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/options";
import { createApp } from "../server/app";
import type { Logger } from "../server/logger";
import { startRuntime } from "../server/runtime";
import { CliError } from "./errors";

/** Return the path of the file that marks a running server in a data directory. */
export function pidFile(dataDir: string): string {
  return join(dataDir, "medianest.pid");
}

/** Start the HTTP server and run until SIGTERM/SIGINT, then shut down gracefully. */
export async function serve(config: Config, log: Logger): Promise<number> {
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create the data directory ${config.dataDir}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const deps = await startRuntime(config, log);
  const app = createApp(deps);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      fetch: (req, srv) => app.fetch(req, { server: srv }),
      // SSE streams send heartbeats well within this.
      idleTimeout: 60,
      maxRequestBodySize: config.bodyLimit + 1024,
    });
  } catch (err) {
    await deps.database.close();
    await deps.coordination.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError(`port ${config.port} is already in use; set MEDIANEST_PORT to another port`);
    throw new CliError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  if (deps.database.dialect === "sqlite") writeFileSync(pidFile(config.dataDir), String(process.pid));
  // Setting up the schedules and the process metrics takes a few milliseconds; the first requests should not
  // wait behind them.
  const jobsStart = setTimeout(() => {
    deps.jobs.start();
    void deps.metrics.collectDefaults();
    // The binary starts with the JIT reluctant to compile (package.json's build: --compile-jit-policy), because
    // start-up code runs once; from here on the server's code runs hot.
    Bun.unsafe.setJITPolicy(1);
  }, 250);
  const url = config.publicUrl ?? `http://localhost:${server.port}`;
  log.info("MediaNest is running", { url, database: deps.database.dialect, coordination: deps.coordination.kind, pid: process.pid });

  const { promise: stopped, resolve } = Promise.withResolvers<number>();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    const graceful = server.stop(false);
    // Live streams never finish on their own; end them so in-flight requests can drain.
    deps.live.closeAll();
    const timeout = Bun.sleep(config.shutdownTimeout * 1000).then(() => "timeout" as const);
    if ((await Promise.race([graceful.then(() => "done" as const), timeout])) === "timeout") {
      log.warn("in-flight requests did not finish in time; closing them");
      await server.stop(true);
    }
    clearTimeout(jobsStart);
    await deps.jobs.stop();
    await deps.coordination.close().catch(() => {});
    await deps.database.close().catch(() => {});
    if (deps.database.dialect === "sqlite") rmSync(pidFile(config.dataDir), { force: true });
    log.info("stopped");
    resolve(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  return stopped;
}
