// Run MediaNest's download workers on a SQLite file from a separate process, until killed.
// Usage: bun test/helpers/download-worker.ts <db path> <lease ms>
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/app/logger";
import { loadConfig } from "../../src/config/config";
import { createSecretBox } from "../../src/config/secret-box";
import { createCoordination } from "../../src/coordination";
import { openSqlite } from "../../src/db/database";
import { createMetrics } from "../../src/metrics/metrics";
import { createDownloadWorkers } from "../../src/services/download-worker";

const [path, leaseMs] = process.argv.slice(2);
const database = openSqlite(path!);
const deps = {
  database,
  coordination: await createCoordination(undefined),
  // The suites store no secret settings for downloads, so any key reads them.
  secretBox: createSecretBox(randomBytes(32)),
  log: createLogger("error"),
  config: loadConfig({ MEDIANEST_DATA_DIR: mkdtempSync(join(tmpdir(), "medianest-worker-")) }),
  fetch: globalThis.fetch,
  metrics: createMetrics(),
};
const workers = createDownloadWorkers(deps, { concurrency: 1, leaseMs: Number(leaseMs), pollMs: 100 });
await workers.start();
console.log("started");
await new Promise(() => {});
