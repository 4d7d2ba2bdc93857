// zod/mini: the same schemas as zod's chained API, at a fraction of its start-up cost (this table is parsed
// before the server can answer; the pages use the full API, loaded with them).
import * as z from "zod/mini";

/** One configuration option: where it comes from, its default, how it is parsed and checked. */
export interface Option<T> {
  /** Environment variable name. */
  env: string;
  description: string;
  /** The value when the variable is unset or empty; undefined means unset. (config.test.ts checks each parses.) */
  default?: T;
  /**
   * Build the schema that parses and validates the raw string; the message of a failure is shown to the user.
   * Built only for variables that are set: a server starts with most options at their defaults, and building
   * every schema was a large part of its start-up.
   */
  schema: () => z.ZodMiniType<T>;
  /** Secrets are masked by `medianest config` and accept a `<env>_FILE` variant. */
  secret?: boolean;
}

const port = () =>
  z.coerce
    .number({ error: "must be a number" })
    .check(
      z.int("must be a whole number"),
      z.minimum(1, "must be between 1 and 65535"),
      z.maximum(65535, "must be between 1 and 65535"),
    );

const bool = () =>
  z.pipe(
    z.string().check(
      z.trim(),
      z.toLowerCase(),
      z.refine((v) => ["1", "0", "true", "false", "yes", "no", "on", "off"].includes(v), "must be true or false"),
    ),
    z.transform((v: string) => ["1", "true", "yes", "on"].includes(v)),
  );

const duration = () =>
  z.coerce.number({ error: "must be a number of seconds" }).check(z.minimum(0, "must not be negative"));

const url = (protocols: string[]) => () =>
  z.string().check(
    z.trim(),
    z.refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(" or ")})`,
    ),
  );

const optional =
  <T extends z.ZodMiniType>(schema: () => T) =>
  () =>
    z.optional(schema());

/** Declare every option MediaNest reads; the README's configuration table is generated from this list. */
export const options = {
  port: { env: "MEDIANEST_PORT", description: "HTTP port to listen on.", default: 8080, schema: port },
  host: {
    env: "MEDIANEST_HOST",
    description: "Address to listen on.",
    default: "0.0.0.0",
    schema: () => z.string().check(z.minLength(1)),
  },
  dataDir: {
    env: "MEDIANEST_DATA_DIR",
    description: "Directory for the SQLite database, the key file and backups.",
    default: "./data",
    schema: () => z.string().check(z.minLength(1, "must not be empty")),
  },
  publicUrl: {
    env: "MEDIANEST_PUBLIC_URL",
    description:
      "URL users reach MediaNest at: forms are then taken only from its origin (see 'Set the public URL'); https here makes cookies Secure.",
    schema: optional(url(["http:", "https:"])),
  },
  databaseUrl: {
    env: "DATABASE_URL",
    description: "PostgreSQL URL; SQLite in the data directory when unset.",
    schema: optional(url(["postgres:", "postgresql:"])),
    secret: true,
  },
  databaseConnectTimeout: {
    env: "MEDIANEST_DATABASE_CONNECT_TIMEOUT",
    description: "Seconds to keep retrying an unreachable database at start before giving up.",
    default: 60,
    schema: duration,
  },
  redisUrl: {
    env: "REDIS_URL",
    description: "Redis URL for caches, pub/sub, locks and rate limits; in memory when unset.",
    schema: optional(url(["redis:", "rediss:"])),
    secret: true,
  },
  redisPrefix: {
    env: "MEDIANEST_REDIS_PREFIX",
    description:
      "Prefix of every Redis key and pub/sub channel; replicas of one deployment share it, other deployments on the same Redis need their own.",
    default: "medianest:",
    schema: () =>
      z
        .string()
        .check(
          z.maxLength(100, "must be at most 100 characters"),
          z.regex(/^[A-Za-z0-9._:-]+$/, "may hold only letters, digits and . _ : -"),
        ),
  },
  cluster: {
    env: "MEDIANEST_CLUSTER",
    description: "Run as one of several replicas (needs PostgreSQL and Redis).",
    default: false,
    schema: bool,
  },
  secretKey: {
    env: "MEDIANEST_SECRET_KEY",
    description: "Key that encrypts stored secrets (32+ characters); a key file in the data directory when unset.",
    schema: optional(() => z.string().check(z.minLength(32, "must be at least 32 characters"))),
    secret: true,
  },
  metricsToken: {
    env: "MEDIANEST_METRICS_TOKEN",
    description:
      "Token /metrics asks for as `Authorization: Bearer <token>` (Prometheus' `authorization` option); /metrics is open when unset, /healthz and /readyz always.",
    schema: optional(() =>
      z.string().check(
        z.trim(),
        z.minLength(16, "must be at least 16 characters (openssl rand -hex 32 makes one)"),
        // What the Authorization header's bearer syntax allows (RFC 6750's b64token).
        z.regex(
          /^[A-Za-z0-9._~+/-]+=*$/,
          "may hold only letters, digits and . _ ~ + / - (openssl rand -hex 32 makes one)",
        ),
      ),
    ),
    secret: true,
  },
  otlpEndpoint: {
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    description:
      "OpenTelemetry collector's OTLP/HTTP base URL (`http://tempo:4318`): traces of requests, integration calls, jobs and downloads go to `<url>/v1/traces` as JSON, and log lines carry `trace_id`; no tracing code is loaded when unset. `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` are read as OpenTelemetry defines them.",
    schema: optional(url(["http:", "https:"])),
  },
  otelServiceName: {
    env: "OTEL_SERVICE_NAME",
    description: "The traces' `service.name`.",
    default: "medianest",
    schema: () => z.string().check(z.trim(), z.minLength(1, "must not be empty")),
  },

  backupDir: {
    env: "MEDIANEST_BACKUP_DIR",
    description: "Directory for backups (`medianest backup` and the backup job); <data dir>/backups when unset.",
    schema: optional(() => z.string().check(z.minLength(1, "must not be empty"))),
  },
  backupSchedule: {
    env: "MEDIANEST_BACKUP_SCHEDULE",
    description: "When the backup job runs (cron, server time), or off.",
    default: "17 3 * * *",
    schema: () =>
      z.string().check(
        z.trim(),
        z.refine((v) => v === "off" || /^\S+( \S+){4,5}$/.test(v), "must be a cron expression (5 or 6 fields) or off"),
      ),
  },
  backupKeep: {
    env: "MEDIANEST_BACKUP_KEEP",
    description: "How many scheduled backups to keep (older ones are deleted); the jobs page can change it.",
    default: 7,
    schema: () =>
      z.coerce
        .number({ error: "must be a number" })
        .check(
          z.int("must be a whole number"),
          z.minimum(1, "must be at least 1"),
          z.maximum(1000, "must be at most 1000"),
        ),
  },
  backupPassphrase: {
    env: "MEDIANEST_BACKUP_PASSPHRASE",
    description: "Encrypt backups with this passphrase (age format; restore asks for the same).",
    schema: optional(() => z.string().check(z.minLength(12, "must be at least 12 characters"))),
    secret: true,
  },
  backupKeyFile: {
    env: "MEDIANEST_BACKUP_KEY_FILE",
    description:
      "Encrypt backups to an age key file (AGE-SECRET-KEY-1… as age-keygen writes it, or only its age1… recipient: then restore needs the secret key).",
    schema: optional(() => z.string().check(z.minLength(1, "must not be empty"))),
  },
  trustProxy: {
    env: "MEDIANEST_TRUST_PROXY",
    description: "Trust X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host from a reverse proxy.",
    default: false,
    schema: bool,
  },
  logLevel: {
    env: "MEDIANEST_LOG_LEVEL",
    description: "debug, info, warn or error.",
    default: "info",
    schema: () => z.enum(["debug", "info", "warn", "error"], { error: "must be debug, info, warn or error" }),
  },
  bodyLimit: {
    env: "MEDIANEST_BODY_LIMIT",
    description: "Largest request body accepted, in bytes.",
    default: 1048576,
    schema: () =>
      z.coerce
        .number({ error: "must be a number" })
        .check(z.int("must be a whole number"), z.minimum(1024, "must be at least 1024")),
  },
  shutdownTimeout: {
    env: "MEDIANEST_SHUTDOWN_TIMEOUT",
    description: "Seconds in-flight requests get to finish on SIGTERM.",
    default: 10,
    schema: duration,
  },
  drainDelay: {
    env: "MEDIANEST_DRAIN_DELAY",
    description:
      "Seconds between SIGTERM and closing the listener, while /readyz answers 503 and requests are still served, so a load balancer stops sending first (set it above the balancer's health-check interval); in its last second a GET or HEAD is answered 503, for a proxy that retries them elsewhere.",
    default: 0,
    schema: () =>
      z.coerce
        .number({ error: "must be a number of seconds" })
        .check(z.minimum(0, "must not be negative"), z.maximum(300, "must be at most 300")),
  },
  jobSchedules: {
    env: "MEDIANEST_JOB_SCHEDULES",
    description:
      "Other schedules for jobs, as `job-id=cron` pairs separated by `;` (cron with an optional seconds field), e.g. `status-checks=*/30 * * * * *`.",
    schema: optional(() =>
      z.pipe(
        z.string(),
        z.transform((raw: string, ctx) => {
          const out: Record<string, string> = {};
          for (const part of raw.split(";")) {
            if (!part.trim()) continue;
            const eq = part.indexOf("=");
            const id = eq > 0 ? part.slice(0, eq).trim() : "";
            const cron = eq > 0 ? part.slice(eq + 1).trim() : "";
            if (!/^[a-z0-9-]+$/.test(id) || !cron) {
              ctx.issues.push({
                code: "custom",
                input: raw,
                message: `must be job-id=cron pairs separated by ; (at "${part.trim()}")`,
              });
              return z.NEVER;
            }
            out[id] = cron;
          }
          return out;
        }),
      ),
    ),
  },
  downloadLease: {
    env: "MEDIANEST_DOWNLOAD_LEASE",
    description:
      "Seconds a replica's claim on a download lasts without a heartbeat (it beats three times a lease); a replica that died has its downloads taken over this long after.",
    default: 60,
    schema: () =>
      z.coerce
        .number({ error: "must be a number of seconds" })
        .check(z.minimum(3, "must be at least 3"), z.maximum(3600, "must be at most 3600")),
  },
  sseHeartbeat: {
    env: "MEDIANEST_SSE_HEARTBEAT",
    description:
      "Seconds between keep-alive comments on live-update (SSE) streams; keep it below any proxy's idle timeout.",
    default: 15,
    schema: () =>
      z.coerce
        .number({ error: "must be a number of seconds" })
        .check(
          z.positive("must be more than 0"),
          z.maximum(50, "must be at most 50 (the server closes connections idle for 60 s)"),
        ),
  },
  sessionIdleDays: {
    env: "MEDIANEST_SESSION_IDLE_DAYS",
    description: "Days of inactivity after which a session ends.",
    default: 14,
    schema: () => z.coerce.number({ error: "must be a number" }).check(z.positive("must be positive")),
  },
  sessionMaxDays: {
    env: "MEDIANEST_SESSION_MAX_DAYS",
    description: "Days after which a session ends regardless of activity.",
    default: 90,
    schema: () => z.coerce.number({ error: "must be a number" }).check(z.positive("must be positive")),
  },
  outboundPrivate: {
    env: "MEDIANEST_OUTBOUND_PRIVATE",
    description:
      "Who may send notifications to private and local addresses (a LAN ntfy, a local webhook): admins or everyone.",
    default: "admins",
    schema: () => z.enum(["admins", "everyone"], { error: "must be admins or everyone" }),
  },
  plexTvUrl: {
    env: "MEDIANEST_PLEX_TV_URL",
    description: "plex.tv API base (change only for testing).",
    default: "https://plex.tv",
    schema: url(["http:", "https:"]),
  },
  plexAppUrl: {
    env: "MEDIANEST_PLEX_APP_URL",
    description: "Plex sign-in page base (change only for testing).",
    default: "https://app.plex.tv/auth",
    schema: url(["http:", "https:"]),
  },
  tmdbImageUrl: {
    env: "MEDIANEST_TMDB_IMAGE_URL",
    description: "Where the image proxy fetches TMDB posters and backdrops (change only for testing or a mirror).",
    default: "https://image.tmdb.org",
    schema: url(["http:", "https:"]),
  },
} satisfies Record<string, Option<unknown>>;

export type Options = typeof options;
export type Config = { [K in keyof Options]: z.output<ReturnType<Options[K]["schema"]>> };
