import type { Config } from "../config/options";
import { createSecretBox, loadMasterKey } from "../config/secret-box";
import { createCoordination } from "../coordination";
import { openPostgres, openSqlite, sqliteFile, type Database } from "../db/database";
import { migrate, schemaStatus } from "../db/migrate";
import { createMetrics } from "../metrics/metrics";
import { allJobs } from "../jobs";
import { queueHealth } from "../store/downloads";
import { listJobRuns } from "../store/job-runs";
import type { Scheduler } from "../app/jobs";
import { createScheduler, withSchedules } from "../jobs/scheduler";
import type { AppDeps } from "../app/deps";
import { createLiveStreams } from "../app/live";
import { createReadiness } from "../app/readiness";
import type { Logger } from "../app/logger";

/** Return the SQLite file path for a data directory. */
export function sqlitePath(dataDir: string): string {
  return sqliteFile(dataDir);
}

/** Open the configured database: PostgreSQL when DATABASE_URL is set, SQLite in the data directory otherwise. */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    return openPostgres(config.databaseUrl, {
      timeoutMs: config.databaseConnectTimeout * 1000,
      log: (line) => log.warn(line),
    });
  }
  return openSqlite(sqlitePath(config.dataDir));
}

/** What createDeps is given; the rest of AppDeps it makes. */
export type DepsParts = Pick<AppDeps, "config" | "database" | "coordination" | "secretBox" | "log"> &
  Partial<Pick<AppDeps, "fetch">>;

/** Form AppDeps from the opened parts: metrics, live streams, the schema check and the job scheduler (server and tests). */
export function createDeps(parts: DepsParts): AppDeps {
  const { database } = parts;
  const metrics = createMetrics();
  const deps: AppDeps = {
    ...parts,
    metrics,
    live: createLiveStreams((n) => metrics.liveStreams.set(n)),
    fetch: parts.fetch ?? globalThis.fetch,
    schemaCurrent: async () => {
      const s = await schemaStatus(database);
      return s.applied === s.known;
    },
    jobs: undefined as unknown as Scheduler,
    readiness: createReadiness(() => deps),
  };
  deps.jobs = createScheduler(withSchedules(allJobs(parts.config), parts.config.jobSchedules), () => deps);
  metrics.sources.jobs = () => listJobRuns(database);
  metrics.sources.readiness = () => deps.readiness.check();
  metrics.sources.downloadQueue = () => queueHealth(database, new Date());
  metrics.sources.lastBackup = async () => {
    const { newestBackup } = await import("../services/backups");
    return newestBackup(parts.config);
  };
  return deps;
}

/** Open everything a running server needs and migrate the database (under a lock). */
export async function startRuntime(config: Config, log: Logger): Promise<AppDeps> {
  const database = await openDatabase(config, log);
  try {
    const applied = await migrate(database);
    if (applied.length) log.info("migrations applied", { applied, database: database.location });
    const coordination = await createCoordination(config.redisUrl, { keyPrefix: config.redisPrefix });
    const secretBox = createSecretBox(loadMasterKey(config.dataDir, config.secretKey));
    return createDeps({ config, database, coordination, secretBox, log });
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}
