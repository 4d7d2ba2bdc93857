// The Dockerfile and compose files cannot be run here; hold them to the facts they must keep.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { options, type Option } from "../src/config/options";

const ROOT = join(import.meta.dir, "..");
const HEALTHCHECK = ["CMD", "/usr/local/bin/medianest", "healthcheck"];

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string> | string[];
  secrets?: (string | { source: string })[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: {
    replicas?: number;
    update_config?: Record<string, unknown>;
  };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; external?: boolean }>;
  volumes?: Record<string, unknown>;
}

async function readCompose(name: string): Promise<ComposeFile> {
  const parsed = Bun.YAML.parse(await Bun.file(join(ROOT, name)).text()) as ComposeFile;
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

describe("Dockerfile", async () => {
  const text = await Bun.file(join(ROOT, "Dockerfile")).text();
  const lines = text.split("\n");
  const stages = lines.filter((l) => /^FROM /i.test(l));

  test("builds in oven/bun and runs on debian:bookworm-slim", () => {
    expect(stages[0]).toMatch(/^FROM oven\/bun:\S+ AS build$/);
    expect(stages.at(-1)).toBe("FROM debian:bookworm-slim");
    expect(text).toContain("bun install --frozen-lockfile");
    expect(text).toContain("bun run build");
    expect(text).toContain("COPY --from=build /src/dist/medianest /usr/local/bin/medianest");
  });

  test("the runtime has yt-dlp, ffmpeg and CA certificates, runs as a non-root user with a /data volume", () => {
    const runtime = text.slice(text.lastIndexOf("FROM debian:bookworm-slim"));
    expect(runtime).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    expect(runtime).toMatch(/apt-get install[^\n]*\bca-certificates\b/);
    expect(runtime).toContain("/usr/local/bin/yt-dlp");
    const user = lines.filter((l) => /^USER /.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(lines).toContain("VOLUME /data");
  });

  test("installs a pinned yt-dlp release checked against its checksums, not Debian's old package", () => {
    const pin = text.match(/^ARG YTDLP_VERSION=(\S+)$/m)?.[1];
    expect(pin).toMatch(/^\d{4}\.\d{2}\.\d{2}(\.\d+)?$/);
    expect(text).toContain("releases/download/${YTDLP_VERSION}");
    expect(text).not.toContain("releases/latest");
    expect(text).toMatch(/SHA2-256SUMS[^\n]*\|\s*sha256sum -c/);
    expect(text).toContain('test "$(/usr/local/bin/yt-dlp --version)" = "${YTDLP_VERSION}"');
    expect(text).toContain("COPY --from=ytdlp /usr/local/bin/yt-dlp /usr/local/bin/yt-dlp");
    const runtime = text.slice(text.lastIndexOf("FROM debian:bookworm-slim"));
    expect(runtime).not.toMatch(/apt-get install[^\n]*\byt-dlp\b/);
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
  const services = Object.entries(file.services);

  test("has one MediaNest service on SQLite with its data in a volume", () => {
    expect(services).toHaveLength(1);
    const [, app] = services[0]!;
    const env = envOf(app);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_URL_FILE).toBeUndefined();
    const dataDir = env.MEDIANEST_DATA_DIR ?? "/data";
    const mount = (app.volumes ?? []).find((v) => v.split(":")[1] === dataDir);
    expect(mount).toBeDefined();
    expect(Object.keys(file.volumes ?? {})).toContain(mount!.split(":")[0]!);
    expect(app.healthcheck?.test).toEqual(HEALTHCHECK);
  });

  test("mounts a download folder from the host", () => {
    const [, app] = services[0]!;
    expect(app.volumes).toContain("${MEDIANEST_DOWNLOADS_DIR:-./downloads}:/downloads");
  });

  test("reads the secret key from a secret file, and every variable is a MediaNest option", () => {
    const [, app] = services[0]!;
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
    expect(app.healthcheck?.test).toEqual(HEALTHCHECK);
  });

  test("mounts the download folder every replica shares", () => {
    expect(app.volumes).toContain("${MEDIANEST_DOWNLOADS_DIR:-/mnt/plex/youtube}:/downloads");
  });

  test("uses postgres:16 and redis:7 services, reached by DATABASE_URL and REDIS_URL", () => {
    expect(file.services.postgres?.image).toBe("postgres:16");
    expect(file.services.redis?.image).toBe("redis:7");
    expect(env.DATABASE_URL ?? env.DATABASE_URL_FILE).toBeDefined();
    expect(env.REDIS_URL ?? env.REDIS_URL_FILE).toBeDefined();
    if (env.REDIS_URL) expect(new URL(env.REDIS_URL).hostname).toBe("redis");
    expect(file.services.postgres?.healthcheck).toBeDefined();
    expect(file.services.redis?.healthcheck).toBeDefined();
  });

  test("passes secrets as _FILE variants of secret options, and every variable is a MediaNest option", () => {
    expect(unknownNames(env)).toEqual([]);
    const fileVars = Object.entries(env).filter(([name]) => name.endsWith("_FILE"));
    expect(fileVars.map(([name]) => name).sort()).toEqual([
      "DATABASE_URL_FILE",
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

  const docker = Bun.which("docker");
  const canValidate =
    docker !== null &&
    Bun.spawnSync([docker, "stack", "config", "--help"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  if (!canValidate)
    console.warn(
      "deploy-files: no docker CLI with `docker stack config`; its validation of compose.swarm.yml is SKIPPED",
    );
  const stackConfig = async (env: Record<string, string>) => {
    const { MEDIANEST_PUBLIC_URL: _, ...rest } = process.env;
    const proc = Bun.spawn([docker!, "stack", "config", "-c", join(ROOT, "compose.swarm.yml")], {
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
    const { stdout, stderr, code } = await stackConfig({ MEDIANEST_PUBLIC_URL: "https://medianest.example.com" });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("MEDIANEST_PUBLIC_URL: https://medianest.example.com");
  });
  test.skipIf(!canValidate)("is refused without MEDIANEST_PUBLIC_URL, which the origin check needs", async () => {
    const { stderr, code } = await stackConfig({});
    expect(code).not.toBe(0);
    expect(stderr).toContain("set MEDIANEST_PUBLIC_URL to the address people open MediaNest at");
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
