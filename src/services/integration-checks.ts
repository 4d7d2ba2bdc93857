/** Connection checks for the integrations page: what each service answers, or in plain words what failed. */
import { stat } from "node:fs/promises";
import { IntegrationError, DEFAULT_TIMEOUT_MS, type IntegrationErrorKind } from "../integrations/http";
import { createPlexClient } from "../integrations/plex/client";
import type { PlexSection } from "../integrations/plex/types";
import { createSeerrClient } from "../integrations/seerr/client";
import { createKumaClient } from "../integrations/uptime-kuma/client";
import type { AppDeps } from "../app/deps";
import { VERSION } from "../version";
import { probeFolder } from "./download-folders";
import { plexClientIdentifier } from "./auth-settings";
import { integrationObserver } from "./integration-observer";

type CheckDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "log" | "integrationTimeoutMs">;

/** The outcome of a "Test connection": facts found, or one message saying what failed. */
export type ConnectionReport =
  | { ok: true; title: string; facts: [label: string, value: string][]; warnings: string[] }
  | { ok: false; message: string };

/** What the Plex server said when it was connected on save. */
export interface PlexConnection {
  machineIdentifier: string;
  name: string;
  version: string;
  sections: PlexSection[];
}

/** Which form field a failure belongs to, so a save can name it. */
export class ConnectionFailure extends Error {
  override readonly name = "ConnectionFailure";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The result of running `<path> --version`. */
export type YtdlpVersion =
  | { ok: true; version: string; path: string }
  | { ok: false; kind: IntegrationErrorKind; message: string };

/** Where a library folder stands on disk; a problem is a warning, never a reason to refuse the mapping. */
export interface FolderCheck {
  folder: string;
  warning: string | null;
}

function timeoutMs(deps: CheckDeps): number {
  return deps.integrationTimeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function ms(started: number): string {
  return `${Math.max(0, Math.round(performance.now() - started))} ms`;
}

/**
 * Say what went wrong in words an admin can act on. Integration errors already read well ("Plex did not answer
 * (timeout after 5 s)"); a rejected credential names the credential; anything else is logged and summarised.
 */
export function describeFailure(deps: Pick<AppDeps, "log">, err: unknown, service: string, credential: string): string {
  if (err instanceof IntegrationError) {
    if (err.kind === "unauthorized" && !/rejected the API key|refused:/.test(err.message)) {
      return `${service} rejected the ${credential} (status ${err.status ?? 401})`;
    }
    return err.message;
  }
  deps.log.warn("integration check failed unexpectedly", {
    service,
    error: err instanceof Error ? err.message : String(err),
  });
  return `${service} could not be checked (${err instanceof Error ? err.message : "unexpected error"})`;
}

async function plexClient(deps: CheckDeps, v: { url: string; token: string }) {
  return createPlexClient({
    baseUrl: v.url,
    token: v.token,
    clientIdentifier: await plexClientIdentifier(deps),
    version: VERSION,
    fetch: deps.fetch,
    timeoutMs: timeoutMs(deps),
    observer: integrationObserver(deps),
  });
}

/** Read the Plex server's identity (no token needed), name and library sections; throws ConnectionFailure. */
export async function connectPlex(deps: CheckDeps, v: { url: string; token: string }): Promise<PlexConnection> {
  const client = await plexClient(deps, v);
  let identity;
  try {
    identity = await client.getIdentity();
  } catch (err) {
    throw new ConnectionFailure("url", describeFailure(deps, err, "Plex", "token"));
  }
  try {
    const [info, sections] = await Promise.all([client.getServerInfo(), client.listSections()]);
    return { machineIdentifier: identity.machineIdentifier, name: info.name, version: identity.version, sections };
  } catch (err) {
    const unauthorized = err instanceof IntegrationError && err.kind === "unauthorized";
    throw new ConnectionFailure(unauthorized ? "token" : "url", describeFailure(deps, err, "Plex", "token"));
  }
}

/** Test a Plex server: name, version, latency and library count. */
export async function testPlex(
  deps: CheckDeps,
  v: { url: string; token: string },
  savedMachineId?: string | null,
): Promise<ConnectionReport> {
  const client = await plexClient(deps, v);
  try {
    const started = performance.now();
    const identity = await client.getIdentity();
    const latency = ms(started);
    const [info, sections] = await Promise.all([client.getServerInfo(), client.listSections()]);
    const warnings: string[] = [];
    if (savedMachineId && savedMachineId !== identity.machineIdentifier) {
      warnings.push(
        `This is a different server than the saved one (machine identifier ${identity.machineIdentifier}); save to switch to it.`,
      );
    }
    return {
      ok: true,
      title: `Connected to Plex server “${info.name}”.`,
      facts: [
        ["Server", info.name],
        ["Version", identity.version],
        ["Latency", latency],
        ["Libraries", String(sections.length)],
        ["Machine identifier", identity.machineIdentifier],
      ],
      warnings,
    };
  } catch (err) {
    return { ok: false, message: describeFailure(deps, err, "Plex", "token") };
  }
}

/** Test a Seerr / Overseerr / Jellyseerr server: version, latency, update state, and that the API key works. */
export async function testSeerr(deps: CheckDeps, v: { url: string; apiKey: string }): Promise<ConnectionReport> {
  const client = createSeerrClient({
    baseUrl: v.url,
    apiKey: v.apiKey,
    fetch: deps.fetch,
    timeoutMs: timeoutMs(deps),
    observer: integrationObserver(deps),
  });
  try {
    const started = performance.now();
    const status = await client.getStatus();
    const latency = ms(started);
    // /status answers without a key on real servers: list one user to prove the key works.
    const users = await client.listUsers({ take: 1, skip: 0 });
    const warnings: string[] = [];
    if (status.restartRequired) warnings.push("Seerr says it needs a restart to apply its settings.");
    return {
      ok: true,
      title: `Connected to Seerr ${status.version}.`,
      facts: [
        ["Version", status.version],
        ["Latency", latency],
        [
          "Update available",
          status.updateAvailable
            ? `yes${status.commitsBehind > 0 ? ` (${status.commitsBehind} commits behind)` : ""}`
            : "no",
        ],
        ["Users", String(users.total)],
      ],
      warnings,
    };
  } catch (err) {
    return { ok: false, message: describeFailure(deps, err, "Seerr", "API key") };
  }
}

/** Test Uptime Kuma: the status page's title and monitor count, latency, and /metrics when an API key is given. */
export async function testKuma(
  deps: CheckDeps,
  v: { url: string; slug: string; apiKey: string | null },
): Promise<ConnectionReport> {
  const client = createKumaClient({
    baseUrl: v.url,
    apiKey: v.apiKey,
    fetch: deps.fetch,
    timeoutMs: timeoutMs(deps),
    observer: integrationObserver(deps),
  });
  let facts: [string, string][];
  try {
    const started = performance.now();
    const page = await client.getStatusPage(v.slug);
    const latency = ms(started);
    const monitors = page.groups.reduce((n, g) => n + g.monitors.length, 0);
    facts = [
      ["Status page", page.title],
      ["Monitors", String(monitors)],
      ["Latency", latency],
    ];
  } catch (err) {
    return { ok: false, message: describeFailure(deps, err, "Uptime Kuma", "API key") };
  }
  const warnings: string[] = [];
  if (v.apiKey) {
    try {
      await client.getMetrics();
      facts.push(["API key", "accepted by /metrics"]);
    } catch (err) {
      const why = describeFailure(deps, err, "Uptime Kuma", "API key");
      facts.push(["API key", "not accepted by /metrics"]);
      warnings.push(`${why}. The status page works without it; only /metrics needs the key.`);
    }
  }
  return { ok: true, title: `Connected to Uptime Kuma status page “${facts[0]![1]}”.`, facts, warnings };
}

/** Run `<path> --version` (argument array, no shell, minimal environment) and report the version it prints. */
export async function readYtdlpVersion(path: string, limitMs: number = DEFAULT_TIMEOUT_MS): Promise<YtdlpVersion> {
  const resolved = path.includes("/") ? path : Bun.which(path);
  if (!resolved) return { ok: false, kind: "network", message: `yt-dlp not found: ${path} is not on the PATH` };
  try {
    const s = await stat(resolved);
    if (!s.isFile())
      return { ok: false, kind: "network", message: `yt-dlp not found at ${resolved} (it is not a file)` };
  } catch {
    return { ok: false, kind: "network", message: `yt-dlp not found at ${resolved}` };
  }
  let proc;
  try {
    proc = Bun.spawn([resolved, "--version"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: limitMs,
      killSignal: "SIGKILL",
      // Never hand MediaNest's own environment (secret key, database URL) to a child process.
      env: {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        LANG: "C.UTF-8",
      },
    });
  } catch (err) {
    const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
    return {
      ok: false,
      kind: "network",
      message:
        code === "EACCES"
          ? `yt-dlp at ${resolved} is not executable`
          : `yt-dlp at ${resolved} could not be started (${err instanceof Error ? err.message : code})`,
    };
  }
  const stdout = readUpTo(proc.stdout, 64 * 1024);
  const stderr = readUpTo(proc.stderr, 64 * 1024);
  const exitCode = await proc.exited;
  // A grandchild may still hold the pipes after a kill: never wait on them for long.
  const [out, errText] = await Promise.all([within(stdout, 500, ""), within(stderr, 500, "")]);
  if (proc.signalCode) {
    return {
      ok: false,
      kind: "timeout",
      message: `yt-dlp at ${resolved} did not answer (timeout after ${Math.round(limitMs / 100) / 10} s)`,
    };
  }
  if (exitCode !== 0) {
    const why = firstLine(errText) || firstLine(out);
    return {
      ok: false,
      kind: "refused",
      message: `yt-dlp at ${resolved} failed (exit ${exitCode})${why ? `: ${why}` : ""}`,
    };
  }
  const version = firstLine(out);
  if (!/^\d[\w.+-]*$/.test(version)) {
    return {
      ok: false,
      kind: "bad_response",
      message: `${resolved} does not look like yt-dlp (--version printed ${version ? `“${version.slice(0, 80)}”` : "nothing"})`,
    };
  }
  return { ok: true, version, path: resolved };
}

/** Test yt-dlp: the version the binary reports. */
export async function testYtdlp(deps: CheckDeps, path: string): Promise<ConnectionReport> {
  const v = await readYtdlpVersion(path, timeoutMs(deps));
  return v.ok
    ? {
        ok: true,
        title: `yt-dlp ${v.version} works.`,
        facts: [
          ["Version", v.version],
          ["Binary", v.path],
        ],
        warnings: [],
      }
    : { ok: false, message: v.message };
}

/** Look at a library folder: warn when it does not exist, is not a folder, or a probe file cannot be written there. */
export async function checkFolder(folder: string): Promise<FolderCheck> {
  const reason = await probeFolder(folder);
  if (!reason) return { folder, warning: null };
  return {
    folder,
    warning: /does not exist$/.test(reason)
      ? `${folder} does not exist (yet); downloads for this library will fail until it does.`
      : `${reason}.`,
  };
}

function firstLine(s: string): string {
  return (s.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim().slice(0, 200);
}

async function readUpTo(stream: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

function within<T>(p: Promise<T>, limit: number, fallback: T): Promise<T> {
  return Promise.race([p.catch(() => fallback), Bun.sleep(limit).then(() => fallback)]);
}

/** True when two URLs share scheme, host and port. */
export function sameOrigin(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * Whether the saved Plex owner token may be sent to the address typed in the form: the saved address's origin, or a
 * server whose /identity (asked without a token) names the machine the token was saved for. Anything else could
 * hand the owner's token to whatever the form points at.
 */
export async function storedPlexTokenMayGoTo(
  deps: CheckDeps,
  url: string,
  saved: { url: string | null; machineIdentifier: string | null },
): Promise<boolean> {
  if (sameOrigin(saved.url, url)) return true;
  if (!saved.machineIdentifier) return false;
  try {
    const identity = await (await plexClient(deps, { url, token: "" })).getIdentity();
    return identity.machineIdentifier === saved.machineIdentifier;
  } catch {
    return false;
  }
}
