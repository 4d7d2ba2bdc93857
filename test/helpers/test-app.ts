import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/config/config";
import type { Config } from "../../src/config/options";
import { createSecretBox } from "../../src/config/secret-box";
import { createCoordination } from "../../src/coordination";
import { openPostgres, openSqlite } from "../../src/db/database";
import { stopDownloadWorkers } from "../../src/jobs/download-queue";
import { createApp } from "../../src/server/app";
import { createDeps } from "../../src/server/runtime";
import { migrate } from "../../src/db/migrate";
import type { AppDeps } from "../../src/app/deps";
import { createLogger, type LogLevel } from "../../src/app/logger";
import { startSession, SESSION_COOKIE } from "../../src/services/sessions";
import { insertUser, type NewUser, type User } from "../../src/store/users";
import { DEFAULT_PERMISSIONS } from "../../src/services/permissions";
import { cleanRedisPrefix, createTempPostgres, REDIS_TEST_URL, testRedisPrefix } from "./services";

export type Dialect = "sqlite" | "postgres";

export interface TestAppOptions {
  dialect?: Dialect;
  redis?: boolean;
  /** Redis key prefix to use instead of a fresh one: apps given the same prefix act as replicas of one deployment. */
  redisPrefix?: string;
  /** Reach PostgreSQL and Redis through other addresses (e.g. a proxy a test can cut): host:port → host:port. */
  via?: { postgres?: string; redis?: string };
  env?: Record<string, string>;
  fetch?: typeof fetch;
  /** Collect log lines instead of printing them. */
  logLines?: string[];
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  config: Config;
  /** Send a request to the app; a relative path gets http://localhost prepended. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const ORIGIN = "http://localhost";

function reroute(url: string, hostPort: string | undefined): string {
  if (!hostPort) return url;
  const u = new URL(url);
  u.host = hostPort;
  return u.toString();
}

/** Build a full app on a migrated throwaway database, memory or Redis coordination, fakes injected. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "medianest-test-"));
  const pg = opts.dialect === "postgres" ? await createTempPostgres() : undefined;
  const redisPrefix = opts.redis ? (opts.redisPrefix ?? testRedisPrefix()) : undefined;
  const config = loadConfig({
    MEDIANEST_DATA_DIR: dataDir,
    MEDIANEST_LOG_LEVEL: "warn",
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...(opts.redis ? { REDIS_URL: REDIS_TEST_URL } : {}),
    ...opts.env,
  });
  const database = pg
    ? await openPostgres(reroute(pg.url, opts.via?.postgres), { timeoutMs: 5000, max: 4 })
    : openSqlite(join(dataDir, "medianest.db"));
  await migrate(database);
  const coordination = await createCoordination(
    config.redisUrl && reroute(config.redisUrl, opts.via?.redis),
    redisPrefix ? { keyPrefix: redisPrefix } : {},
  );
  const logLines = opts.logLines;
  const deps = createDeps({
    config,
    database,
    coordination,
    secretBox: createSecretBox(randomBytes(32)),
    log: createLogger(
      (logLines ? "debug" : config.logLevel) as LogLevel,
      logLines ? (line) => logLines.push(line) : undefined,
    ),
    fetch: opts.fetch,
  });
  const app = createApp(deps);
  return {
    app,
    deps,
    config,
    request: async (path, init) => app.request(path.startsWith("http") ? path : ORIGIN + path, init),
    async close() {
      // Jobs first, as serve does: a download-queue tick still running could start the workers after they stopped.
      await deps.jobs.stop();
      await stopDownloadWorkers(deps);
      deps.live.closeAll();
      await coordination.close();
      await database.close();
      if (redisPrefix) await cleanRedisPrefix(redisPrefix);
      if (pg) await pg.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

/** Insert a user with sensible defaults. */
export async function givenUser(deps: Pick<AppDeps, "database">, patch: Partial<NewUser> = {}): Promise<User> {
  seq++;
  const now = new Date();
  return insertUser(deps.database, {
    id: crypto.randomUUID(),
    username: `user${seq}-${randomBytes(3).toString("hex")}`,
    displayName: `User ${seq}`,
    role: "user",
    status: "active",
    permissions: [...DEFAULT_PERMISSIONS],
    createdAt: now,
    updatedAt: now,
    ...patch,
  });
}

/** A signed-in browser: its cookie and CSRF token, and a request function that sends them. */
export interface Browser {
  user: User;
  cookie: string;
  csrf: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** POST a form with the CSRF field and a same-site Origin (the public URL's, when one is set). */
  post(path: string, form?: Record<string, string | string[]>, headers?: Record<string, string>): Promise<Response>;
}

/** Start a session for a user and return a browser that carries it. */
export async function signIn(t: TestApp, user: User): Promise<Browser> {
  const { cookie, session } = await startSession(t.deps, user, { ip: "127.0.0.1", userAgent: "test" });
  const cookieHeader = `${SESSION_COOKIE}=${cookie}`;
  // With a public URL set, forms are taken only from its origin.
  const origin = t.config.publicUrl ? new URL(t.config.publicUrl).origin : ORIGIN;
  return {
    user,
    cookie: cookieHeader,
    csrf: session.csrfToken,
    get: (path, headers = {}) => t.request(path, { headers: { cookie: cookieHeader, ...headers } }),
    post: (path, form = {}, headers = {}) => {
      const body = new URLSearchParams();
      body.set("_csrf", session.csrfToken);
      for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
      return t.request(path, {
        method: "POST",
        body,
        headers: {
          cookie: cookieHeader,
          origin,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
      });
    },
  };
}
