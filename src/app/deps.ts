import type { Config } from "../config/options";
import type { SecretBox } from "../config/secret-box";
import type { Coordination } from "../coordination/types";
import type { Database } from "../db/database";
import type { Metrics } from "../metrics/metrics";
import type { Session } from "../store/sessions";
import type { User } from "../store/users";
import type { LiveStreams } from "./live";
import type { Logger } from "./logger";
import type { Readiness } from "./readiness";
import type { Scheduler } from "./jobs";

/** Everything the app needs from outside; tests build their own (test/helpers/test-app.ts). */
export interface AppDeps {
  config: Config;
  database: Database;
  coordination: Coordination;
  secretBox: SecretBox;
  metrics: Metrics;
  log: Logger;
  /** fetch used by integration clients; tests may inject one. */
  fetch: typeof fetch;
  /** How long admin connection checks wait for a service, in ms (default 5000); tests shorten it. */
  integrationTimeoutMs?: number;
  /** Scheduled jobs (started by serve; tests run them on demand). */
  jobs: Scheduler;
  /** Open live (SSE) streams, ended at shutdown. */
  live: LiveStreams;
  /** True while the schema matches this binary; /readyz reads it. */
  schemaCurrent: () => Promise<boolean>;
  /** What /readyz answers and medianest_ready exports, draining included (serve drains it on SIGTERM). */
  readiness: Readiness;
}

/** Per request: whether anything set a header on the context, and the response already built with them all. */
export interface SecurityState {
  headersSet: boolean;
  built: Response | undefined;
}

/** Hono's typed context variables. */
export interface AppEnv {
  Variables: {
    deps: AppDeps;
    user: User | undefined;
    session: Session | undefined;
    csrfToken: string;
    /** "cookie" for browser sessions, "token" for personal API tokens. */
    authVia: "cookie" | "token" | undefined;
    /** Set by the request pipeline's security headers step (sendPage reads it). */
    security: SecurityState;
  };
}
