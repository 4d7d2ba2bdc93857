import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configTableMarkdown, describeConfig, loadConfig, maskSecret } from "./config";
import { options, type Option } from "./options";

const dir = mkdtempSync(join(tmpdir(), "medianest-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** Run loadConfig and return the ConfigError it throws (failing when it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  test("every default is what its own schema makes of the default written as text", () => {
    const withDefault = (Object.values(options) as Option<unknown>[]).filter((o) => o.default !== undefined);
    expect(withDefault.length).toBeGreaterThan(10);
    for (const o of withDefault)
      expect({ env: o.env, value: (o.schema() as { parse(v: string): unknown }).parse(String(o.default)) }).toEqual({
        env: o.env,
        value: o.default,
      });
  });

  test("defaults: SQLite in ./data, memory coordination, port 8080", () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      host: "0.0.0.0",
      dataDir: "./data",
      publicUrl: undefined,
      databaseUrl: undefined,
      databaseConnectTimeout: 60,
      redisUrl: undefined,
      redisPrefix: "medianest:",
      cluster: false,
      secretKey: undefined,
      metricsToken: undefined,
      otlpEndpoint: undefined,
      otelServiceName: "medianest",
      backupDir: undefined,
      backupSchedule: "17 3 * * *",
      backupKeep: 7,
      backupPassphrase: undefined,
      backupKeyFile: undefined,
      trustProxy: false,
      logLevel: "info",
      bodyLimit: 1_048_576,
      shutdownTimeout: 10,
      drainDelay: 0,
      jobSchedules: undefined,
      downloadLease: 60,
      sseHeartbeat: 15,
      outboundPrivate: "admins",
      sessionIdleDays: 14,
      sessionMaxDays: 90,
      plexTvUrl: "https://plex.tv",
      plexAppUrl: "https://app.plex.tv/auth",
      tmdbImageUrl: "https://image.tmdb.org",
    });
  });

  test("reads and converts every kind of value", () => {
    const config = loadConfig({
      MEDIANEST_PORT: "3000",
      MEDIANEST_PUBLIC_URL: "https://media.example.org",
      DATABASE_URL: "postgresql://medianest:pw@db:5432/medianest",
      REDIS_URL: "rediss://:pw@redis:6380",
      MEDIANEST_CLUSTER: "yes",
      MEDIANEST_TRUST_PROXY: "TRUE",
      MEDIANEST_LOG_LEVEL: "debug",
      MEDIANEST_BODY_LIMIT: "2048",
      MEDIANEST_SESSION_IDLE_DAYS: "0.5",
      MEDIANEST_SSE_HEARTBEAT: "0.25",
      MEDIANEST_REDIS_PREFIX: "media-a:",
      MEDIANEST_DRAIN_DELAY: "2.5",
      MEDIANEST_JOB_SCHEDULES: "status-checks=*/5 * * * * *; session-cleanup = 0 3 * * *;",
    });
    expect(config.redisPrefix).toBe("media-a:");
    expect(config.drainDelay).toBe(2.5);
    expect(config.jobSchedules).toEqual({ "status-checks": "*/5 * * * * *", "session-cleanup": "0 3 * * *" });
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe("https://media.example.org");
    expect(config.databaseUrl).toBe("postgresql://medianest:pw@db:5432/medianest");
    expect(config.redisUrl).toBe("rediss://:pw@redis:6380");
    expect(config.cluster).toBe(true);
    expect(config.trustProxy).toBe(true);
    expect(config.logLevel).toBe("debug");
    expect(config.bodyLimit).toBe(2048);
    expect(config.sessionIdleDays).toBe(0.5);
    expect(config.sseHeartbeat).toBe(0.25);
  });

  test("an empty variable means the default", () => {
    expect(loadConfig({ MEDIANEST_PORT: "", MEDIANEST_LOG_LEVEL: "" })).toMatchObject({ port: 8080, logLevel: "info" });
  });

  const bad: [string, Record<string, string>, string, RegExp][] = [
    ["port that is not a number", { MEDIANEST_PORT: "abc" }, "MEDIANEST_PORT", /must be a number/],
    ["port out of range", { MEDIANEST_PORT: "70000" }, "MEDIANEST_PORT", /between 1 and 65535/],
    ["port zero", { MEDIANEST_PORT: "0" }, "MEDIANEST_PORT", /between 1 and 65535/],
    ["fractional port", { MEDIANEST_PORT: "80.5" }, "MEDIANEST_PORT", /whole number/],
    [
      "DATABASE_URL with another scheme",
      { DATABASE_URL: "mysql://root:hunter2@db/medianest" },
      "DATABASE_URL",
      /postgres/,
    ],
    ["DATABASE_URL that is not a URL", { DATABASE_URL: "medianest.db" }, "DATABASE_URL", /must be a URL/],
    [
      "OTEL_EXPORTER_OTLP_ENDPOINT that is not an http(s) URL",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "tempo:4318" },
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      /must be a URL/,
    ],
    ["REDIS_URL with another scheme", { REDIS_URL: "http://redis:6379" }, "REDIS_URL", /redis/],
    [
      "short secret key",
      { MEDIANEST_SECRET_KEY: "too-short-hunter2" },
      "MEDIANEST_SECRET_KEY",
      /at least 32 characters/,
    ],
    ["short metrics token", { MEDIANEST_METRICS_TOKEN: "hunter2" }, "MEDIANEST_METRICS_TOKEN", /at least 16/],
    [
      "metrics token that cannot be a bearer token",
      { MEDIANEST_METRICS_TOKEN: "correct horse battery staple" },
      "MEDIANEST_METRICS_TOKEN",
      /only letters, digits/,
    ],
    ["unknown log level", { MEDIANEST_LOG_LEVEL: "verbose" }, "MEDIANEST_LOG_LEVEL", /debug, info, warn or error/],
    [
      "public URL that is not http(s)",
      { MEDIANEST_PUBLIC_URL: "ftp://media.example.org" },
      "MEDIANEST_PUBLIC_URL",
      /http/,
    ],
    ["boolean that is not one", { MEDIANEST_TRUST_PROXY: "maybe" }, "MEDIANEST_TRUST_PROXY", /true or false/],
    ["tiny body limit", { MEDIANEST_BODY_LIMIT: "10" }, "MEDIANEST_BODY_LIMIT", /at least 1024/],
    ["fractional body limit", { MEDIANEST_BODY_LIMIT: "2048.5" }, "MEDIANEST_BODY_LIMIT", /whole number/],
    [
      "negative connect timeout",
      { MEDIANEST_DATABASE_CONNECT_TIMEOUT: "-5" },
      "MEDIANEST_DATABASE_CONNECT_TIMEOUT",
      /negative/,
    ],
    ["Redis prefix with a space", { MEDIANEST_REDIS_PREFIX: "a b" }, "MEDIANEST_REDIS_PREFIX", /only letters/],
    ["negative drain delay", { MEDIANEST_DRAIN_DELAY: "-1" }, "MEDIANEST_DRAIN_DELAY", /negative/],
    [
      "job schedule without a job id",
      { MEDIANEST_JOB_SCHEDULES: "*/5 * * * * *" },
      "MEDIANEST_JOB_SCHEDULES",
      /job-id=cron pairs/,
    ],
    ["zero SSE heartbeat", { MEDIANEST_SSE_HEARTBEAT: "0" }, "MEDIANEST_SSE_HEARTBEAT", /more than 0/],
    ["SSE heartbeat past the idle timeout", { MEDIANEST_SSE_HEARTBEAT: "90" }, "MEDIANEST_SSE_HEARTBEAT", /at most 50/],
    ["zero session days", { MEDIANEST_SESSION_MAX_DAYS: "0" }, "MEDIANEST_SESSION_MAX_DAYS", /positive/],
    [
      "cluster without DATABASE_URL or REDIS_URL",
      { MEDIANEST_CLUSTER: "1" },
      "MEDIANEST_CLUSTER",
      /DATABASE_URL.*REDIS_URL/,
    ],
    [
      "cluster without REDIS_URL",
      { MEDIANEST_CLUSTER: "true", DATABASE_URL: "postgres://db/medianest" },
      "MEDIANEST_CLUSTER",
      /REDIS_URL/,
    ],
    [
      "cluster without DATABASE_URL",
      { MEDIANEST_CLUSTER: "on", REDIS_URL: "redis://redis" },
      "MEDIANEST_CLUSTER",
      /DATABASE_URL/,
    ],
  ];
  for (const [what, env, variable, reason] of bad) {
    test(`refuses a ${what}, naming ${variable}`, () => {
      const err = configError(env);
      expect(err.variable).toBe(variable);
      expect(err.message).toStartWith(`config: ${variable} `);
      expect(err.message).toMatch(reason);
    });
  }

  test("a refused secret is not echoed back", () => {
    expect(configError({ DATABASE_URL: "mysql://root:hunter2@db/medianest" }).message).not.toContain("hunter2");
    expect(configError({ MEDIANEST_SECRET_KEY: "too-short-hunter2" }).message).not.toContain("hunter2");
  });

  test("a refused plain value is shown, so the user sees what was read", () => {
    expect(configError({ MEDIANEST_PORT: "70000" }).message).toContain('"70000"');
  });

  test("cluster mode with PostgreSQL and Redis is accepted", () => {
    expect(
      loadConfig({ MEDIANEST_CLUSTER: "1", DATABASE_URL: "postgres://db/medianest", REDIS_URL: "redis://redis" })
        .cluster,
    ).toBe(true);
  });
});

describe("_FILE variants", () => {
  test("secrets are read from files, trailing newline trimmed", () => {
    const config = loadConfig({
      DATABASE_URL_FILE: secretFile("db-url", "postgres://medianest:from-file@db:5432/medianest\n"),
      REDIS_URL_FILE: secretFile("redis-url", "redis://:from-file@redis:6379\r\n"),
      MEDIANEST_SECRET_KEY_FILE: secretFile("key", "0123456789abcdef0123456789abcdef-from-file\n"),
      MEDIANEST_METRICS_TOKEN_FILE: secretFile("metrics-token", "metrics-token-from-file-0123\n"),
    });
    expect(config.metricsToken).toBe("metrics-token-from-file-0123");
    expect(config.databaseUrl).toBe("postgres://medianest:from-file@db:5432/medianest");
    expect(config.redisUrl).toBe("redis://:from-file@redis:6379");
    expect(config.secretKey).toBe("0123456789abcdef0123456789abcdef-from-file");
  });

  test("the file wins over the plain variable", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://plain/db",
      DATABASE_URL_FILE: secretFile("db-url-2", "postgres://file/db\n"),
    });
    expect(config.databaseUrl).toBe("postgres://file/db");
  });

  test("a file's content is validated like the variable", () => {
    const err = configError({ MEDIANEST_SECRET_KEY_FILE: secretFile("short-key", "short\n") });
    expect(err.variable).toBe("MEDIANEST_SECRET_KEY");
    expect(err.message).toMatch(/at least 32 characters/);
  });

  test("a missing file names the _FILE variable and the reason", () => {
    const err = configError({ MEDIANEST_SECRET_KEY_FILE: join(dir, "does-not-exist") });
    expect(err.variable).toBe("MEDIANEST_SECRET_KEY_FILE");
    expect(err.message).toStartWith("config: MEDIANEST_SECRET_KEY_FILE ");
    expect(err.message).toContain("ENOENT");
  });

  test("a directory given as the file names the _FILE variable", () => {
    const err = configError({ DATABASE_URL_FILE: dir });
    expect(err.variable).toBe("DATABASE_URL_FILE");
    expect(err.message).toContain("EISDIR");
  });

  test.skipIf(process.getuid?.() === 0)("an unreadable file names the _FILE variable", () => {
    const path = secretFile("unreadable", "postgres://db/medianest\n");
    chmodSync(path, 0o000);
    const err = configError({ DATABASE_URL_FILE: path });
    expect(err.variable).toBe("DATABASE_URL_FILE");
    expect(err.message).toContain("EACCES");
  });
  if (process.getuid?.() === 0)
    console.warn(
      "config.test: running as root, chmod 000 does not stop reads; the unreadable-file case is SKIPPED (ENOENT and EISDIR still run)",
    );

  test("options that are not secrets have no _FILE variant", () => {
    expect(loadConfig({ MEDIANEST_PORT_FILE: secretFile("port", "3000\n") }).port).toBe(8080);
  });
});

describe("describeConfig", () => {
  test("prints every option once and never a secret", () => {
    const secrets = [
      "s3cr3t-db-password",
      "r3dis-password",
      "correct-horse-battery-staple-0123456789",
      "m3trics-token-0123456789abcdef",
    ];
    const config = loadConfig({
      DATABASE_URL: `postgres://medianest:${secrets[0]}@db:5432/medianest`,
      REDIS_URL: `redis://default:${secrets[1]}@redis:6379/0`,
      MEDIANEST_SECRET_KEY: secrets[2]!,
      MEDIANEST_METRICS_TOKEN: secrets[3]!,
      MEDIANEST_PORT: "3000",
    });

    const lines = describeConfig(config);

    expect(lines.map((l) => l.split("=")[0])).toEqual(Object.values(options).map((o) => o.env));
    const text = lines.join("\n");
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(lines).toContain("DATABASE_URL=postgres://medianest:***@db:5432/medianest");
    expect(lines).toContain("REDIS_URL=redis://default:***@redis:6379/0");
    expect(lines).toContain(`MEDIANEST_SECRET_KEY=*** (${secrets[2]!.length} characters)`);
    expect(lines).toContain(`MEDIANEST_METRICS_TOKEN=*** (${secrets[3]!.length} characters)`);
    expect(lines).toContain("MEDIANEST_PORT=3000");
    expect(lines).toContain("MEDIANEST_PUBLIC_URL=(unset)");
  });

  test("maskSecret hides URL passwords and plain secrets", () => {
    expect(maskSecret("postgres://u:p%40ss@h/db")).toBe("postgres://u:***@h/db");
    expect(maskSecret("https://user:pw@example.org/")).toBe("*** (28 characters)");
    expect(maskSecret("plain-secret")).toBe("*** (12 characters)");
    expect(maskSecret("not:a-url-with-host-secret")).not.toContain("secret");
  });

  test("the README table lists every variable, with _FILE for secrets", () => {
    const table = configTableMarkdown();
    for (const o of Object.values(options) as { env: string; secret?: boolean }[]) {
      expect(table).toContain(`\`${o.env}\``);
      if (o.secret) expect(table).toContain(`\`${o.env}_FILE\``);
    }
  });
});
