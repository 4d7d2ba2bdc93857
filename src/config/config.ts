import { readFileSync } from "node:fs";
import { options, type Config, type Option } from "./options";

/** A configuration value that failed to parse; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`config: ${variable} ${detail}`);
  }
}

/** The variable's text (or its _FILE's), or undefined when unset or empty. */
function rawValue(option: Option<unknown>, env: Record<string, string | undefined>): string | undefined {
  if (option.secret) {
    const file = env[`${option.env}_FILE`];
    if (file) {
      try {
        return readFileSync(file, "utf8").trim();
      } catch (err) {
        throw new ConfigError(`${option.env}_FILE`, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
    }
  }
  const value = env[option.env];
  return value === "" ? undefined : value;
}

/** Parse and validate the whole configuration from the environment; throws ConfigError on the first bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(options) as [string, Option<unknown>][]) {
    const raw = rawValue(option, env);
    if (raw === undefined) {
      out[key] = option.default;
      continue;
    }
    const parsed = option.schema().safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(
        option.env,
        `${issue?.message ?? "is invalid"} (got ${JSON.stringify(option.secret ? "***" : raw)})`,
      );
    }
    out[key] = parsed.data;
  }
  const config = out as Config;
  if (config.cluster && (!config.databaseUrl || !config.redisUrl)) {
    throw new ConfigError(
      "MEDIANEST_CLUSTER",
      "needs DATABASE_URL (PostgreSQL) and REDIS_URL: replicas cannot share SQLite or memory",
    );
  }
  return config;
}

/** Describe the effective configuration with secrets masked, one `NAME=value` line each. */
export function describeConfig(config: Config): string[] {
  return (Object.entries(options) as [keyof Config, Option<unknown>][]).map(([key, option]) => {
    const value = config[key];
    const shown = value === undefined ? "(unset)" : option.secret ? maskSecret(String(value)) : String(value);
    return `${option.env}=${shown}`;
  });
}

/** Mask a secret, keeping URL structure visible but hiding passwords; plain secrets show only their length. */
export function maskSecret(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = "***";
    if (u.protocol !== "http:" && u.protocol !== "https:" && u.host) return u.toString();
  } catch {
    // not a URL
  }
  return `*** (${value.length} characters)`;
}

/** Render the configuration table for the README. */
export function configTableMarkdown(): string {
  const rows = (Object.values(options) as Option<unknown>[]).map(
    (o) =>
      `| \`${o.env}\`${o.secret ? ` (or \`${o.env}_FILE\`)` : ""} | ${o.default === undefined ? "" : `\`${String(o.default)}\``} | ${o.description} |`,
  );
  return ["| variable | default | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
