// Soak (not a test): bun run soak   (options: --backend=sqlite|postgres|both --minutes=10 --cooldown=10 --rate=40
//                                     --sse=40 --write-doc)
// The compiled binary under a fixed-rate mixed workload for --minutes: signed-in pages, search and title pages
// through the fake Seerr, requests, Seerr webhooks, downloads from the local media site (real yt-dlp), and SSE
// clients connecting and leaving. Afterwards it idles for --cooldown minutes. RSS and open file descriptors are
// sampled every 10 s, the live-stream count from /metrics. Judged: zero errors (a 5xx or a failed connection), the
// RSS slope over the second half of the load under 1 MiB a minute, RSS under 80 MiB at the end of the cool-down,
// and file descriptors and live streams back to where they were when the server started (keep-alive
// connections and the PostgreSQL pool close after 60 s idle, well within the cool-down). --write-doc writes docs/soak.md.
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config";
import { createSecretBox, loadMasterKey } from "../../src/config/secret-box";
import { type Database, openPostgres, openSqlite } from "../../src/db/database";
import { migrate } from "../../src/db/migrate";
import { saveDownloadSettings } from "../../src/services/download-settings";
import { saveLibraries, saveSeerrIntegration } from "../../src/services/integrations";
import { webhookAuthHeader, webhookSecret } from "../../src/services/seerr-webhook";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import { Replica, buildBinary, freePort, workDir } from "../cluster/harness";
import { startMediaSite } from "../fakes/media-site";
import { SEERR_PERMISSIONS, seerrMovie, seerrShow, seerrUser, startFakeSeerr } from "../fakes/seerr";
import { givenUser } from "../helpers/test-app";
import { REDIS_TEST_URL, cleanRedisPrefix, createTempPostgres, testRedisPrefix } from "../helpers/services";

const ROOT = join(import.meta.dir, "..", "..");
function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const BACKENDS = arg("backend", "both") === "both" ? ["sqlite", "postgres"] : [arg("backend", "sqlite")];
const LOAD_MS = Number(arg("minutes", "10")) * 60_000;
const COOLDOWN_MS = Number(arg("cooldown", "10")) * 60_000;
const RATE = Number(arg("rate", "40"));
const SSE_CLIENTS = Number(arg("sse", "40"));
const SAMPLE_MS = Number(arg("sample", "10")) * 1000;
const WARMUP_MS = Number(arg("warmup", "30")) * 1000;
/** More environment for the server, as --server-env=NAME=value,NAME=value (to compare settings). */
const EXTRA_ENV = Object.fromEntries(
  arg("server-env", "")
    .split(",")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
const USERS = 50;
const MOVIES = 400;
const SECRET_KEY = "soak-secret-key-0123456789abcdef0123456789";
const METRICS_TOKEN = "soak-metrics-token";

interface Sample {
  atMs: number;
  rssMiB: number;
  fds: number;
  streams: number;
  phase: "load" | "cooldown";
}
interface RouteStats {
  ms: number[];
  statuses: Map<number, number>;
  errors: number;
}
interface SoakResult {
  backend: string;
  routes: Map<string, RouteStats>;
  samples: Sample[];
  start: { rssMiB: number; fds: number; streams: number };
  end: { rssMiB: number; fds: number; streams: number };
  slopeMiBPerMin: number;
  peakRssMiB: number;
  errors: number;
  sent: number;
  downloadsCompleted: number;
  /** Descriptors by kind that differ between the start and the end ("socket +3"). */
  fdChange: string;
  /** Connections to PostgreSQL open at the start and at the end (0 on SQLite). */
  pgConnectionsAtStart: number;
  pgConnections: number;
  refusals: Map<string, string>;
  /** RSS at the end split into anonymous (the JS heap within it) and file-backed (the binary's code within it). */
  endParts: string;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : 0;
};

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** A memory figure of /proc/<pid>/status in MiB (VmRSS, RssAnon, RssFile). */
function statusMiB(pid: number, key = "VmRSS"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${key}:`))!;
  return Number(line.replace(/\D+/g, "")) / 1024;
}
const rssMiB = (pid: number) => statusMiB(pid);
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
/** The pool's size in src/db/database.ts (openPostgres): the most PostgreSQL connections a replica keeps. */
const PG_POOL_MAX = 10;
const PG_CONNECTION = "PostgreSQL connection";
/** The local and remote port of each of a process's TCP sockets, by inode (/proc/<pid>/net/tcp and tcp6). */
function tcpSockets(pid: number): Map<string, { local: number; remote: number }> {
  const sockets = new Map<string, { local: number; remote: number }>();
  const portOf = (address: string) => Number.parseInt(address.slice(address.lastIndexOf(":") + 1), 16);
  for (const file of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${file}`, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] && cols[2] && cols[9]) sockets.set(cols[9], { local: portOf(cols[1]), remote: portOf(cols[2]) });
    }
  }
  return sockets;
}
/**
 * What a process's descriptors point at, counted by kind: files by path, TCP sockets by what they reach (`reaches`:
 * a remote port's name) or as the server's own (its listener and its clients' connections). Sockets to PostgreSQL
 * are counted apart: postgres.js hands out its longest-idle connection first, so the few queries a minute of the
 * jobs and workers keep every connection the load opened from reaching its idle timeout; they are judged against the
 * pool's bound, every other descriptor against its start.
 */
function fdKinds(pid: number, serverPort: number, reaches: Map<number, string>): Record<string, number> {
  const kinds: Record<string, number> = {};
  const tcp = tcpSockets(pid);
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const socket = tcp.get(/^socket:\[(\d+)\]$/.exec(link)?.[1] ?? "");
    const target = !socket
      ? link.replace(/:\[\d+\]$/, "")
      : socket.local === serverPort
        ? socket.remote === 0
          ? "the server's listener"
          : "a client's connection"
        : (reaches.get(socket.remote) ?? `TCP connection to port ${socket.remote}`);
    kinds[target] = (kinds[target] ?? 0) + 1;
  }
  return kinds;
}

/** Every descriptor but the PostgreSQL connections back to its start, give or take the runtime's own two. */
const fdsBack = (r: SoakResult) => r.end.fds - r.pgConnections <= r.start.fds - r.pgConnectionsAtStart + 2;

/** Resident pages of the binary's executable code (its r-xp mappings in /proc/<pid>/smaps), in MiB. */
function binaryCodeMiB(pid: number, bin: string): number {
  let kib = 0;
  let inCode = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) inCode = mapping[1] === "r-xp" && mapping[2] === bin;
    else if (inCode && line.startsWith("Rss:")) kib += Number(line.replace(/\D+/g, ""));
  }
  return kib / 1024;
}

/** The server's /metrics text. */
async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return res.text();
}

/** One unlabelled sample of a scrape (NaN when it is missing). */
const sampleOf = (metrics: string, name: string) =>
  Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics)?.[1] ?? Number.NaN);

const liveStreams = async (base: string) => sampleOf(await scrape(base), "medianest_live_streams");

async function soak(backend: string, bin: string, work: string): Promise<SoakResult> {
  const dataDir = join(work, backend);
  const library = join(work, `${backend}-library`);
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(library, { recursive: true });
  const pg = backend === "postgres" ? await createTempPostgres() : undefined;
  const redisPrefix = pg ? testRedisPrefix() : undefined;
  const site = await startMediaSite();
  const seerr = startFakeSeerr({
    apiKey: "soak-seerr-key",
    users: [
      seerrUser({ id: 1, displayName: "owner", permissions: SEERR_PERMISSIONS.ADMIN }),
      ...Array.from({ length: USERS }, (_, i) =>
        seerrUser({ id: i + 2, displayName: `member${i}`, plexId: 7000 + i, permissions: SEERR_PERMISSIONS.REQUEST }),
      ),
    ],
    movies: Array.from({ length: MOVIES }, (_, i) => seerrMovie({ id: 1000 + i, title: `Soak Movie ${i}` })),
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
  });

  // Settings, members and their sessions, written before the server starts (with the key the server will use).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? work,
    MEDIANEST_HOST: "127.0.0.1",
    MEDIANEST_DATA_DIR: dataDir,
    MEDIANEST_SECRET_KEY: SECRET_KEY,
    MEDIANEST_METRICS_TOKEN: METRICS_TOKEN,
    MEDIANEST_LOG_LEVEL: "warn",
    MEDIANEST_TRUST_PROXY: "1",
    ...EXTRA_ENV,
    ...(pg ? { DATABASE_URL: pg.url, REDIS_URL: REDIS_TEST_URL, MEDIANEST_REDIS_PREFIX: redisPrefix! } : {}),
  };
  const config = loadConfig(env);
  const database: Database = pg
    ? await openPostgres(pg.url, { timeoutMs: 5000, max: 4 })
    : openSqlite(join(dataDir, "medianest.db"));
  await migrate(database);
  const deps = { database, config, secretBox: createSecretBox(loadMasterKey(dataDir, SECRET_KEY)) };
  await saveSeerrIntegration(deps, { url: seerr.url, apiKey: "soak-seerr-key" });
  await saveLibraries(deps, [{ sectionKey: "7", title: "YouTube", type: "movie", folder: library }]);
  await saveDownloadSettings(deps, { allowedHosts: [site.host], minFreeBytes: 0 });
  const webhookHeader = webhookAuthHeader(await webhookSecret(deps));
  // The owner exists, so the server is past its first-run setup.
  await givenUser(deps, { username: "owner", role: "admin" });
  const cookies: string[] = [];
  const csrf: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const user = await givenUser(deps, {
      username: `member${i}`,
      plexId: 7000 + i,
      permissions: ["request", "download", "auto_approve_downloads"],
      downloadsPerHour: null,
      downloadsPerDay: null,
      requestsPerWeek: null,
    });
    const { cookie, session } = await startSession(deps, user, { ip: "127.0.0.1", userAgent: "soak" });
    cookies.push(`${SESSION_COOKIE}=${cookie}`);
    csrf.push(session.csrfToken);
  }
  await database.close();

  const server = new Replica(`soak-${backend}`, bin, freePort(), () => env);
  await server.start();
  const base = server.base;
  const pid = server.proc!.pid;
  // Where descriptors and live streams must come back to: the server as it started.
  const startFds = fdCount(pid);
  const reaches = new Map<number, string>([
    [Number(new URL(seerr.url).port), "connection to the fake Seerr"],
    [Number(new URL(site.url).port), "connection to the media site"],
    ...(pg
      ? ([
          [Number(new URL(pg.url).port || 5432), PG_CONNECTION],
          [Number(new URL(REDIS_TEST_URL).port || 6379), "Redis connection"],
        ] as [number, string][])
      : []),
  ]);
  const fdsNow = () => fdKinds(pid, server.port, reaches);
  const startKinds = fdsNow();
  const startStreams = await liveStreams(base);

  const routes = new Map<string, RouteStats>();
  let sent = 0;
  let errors = 0;
  /** The first answer of each refused kind (route and status), as text, for the report. */
  const refusals = new Map<string, string>();
  const record = (route: string, ms: number, status: number) => {
    let r = routes.get(route);
    if (!r) routes.set(route, (r = { ms: [], statuses: new Map(), errors: 0 }));
    r.ms.push(ms);
    r.statuses.set(status, (r.statuses.get(status) ?? 0) + 1);
    if (status === 0 || status >= 500) {
      r.errors++;
      errors++;
    }
  };
  const call = async (route: string, path: string, init: RequestInit = {}) => {
    sent++;
    const t0 = performance.now();
    try {
      const res = await fetch(base + path, { redirect: "manual", ...init });
      const body = await res.text();
      record(route, performance.now() - t0, res.status);
      if (res.status >= 400 && !refusals.has(`${route} ${res.status}`)) {
        // The page's own message (an alert or a field's error) when it has one, else the start of the page.
        const message = /(?:role="alert"|class="field-error")[^>]*>([\s\S]*?)<\/(?:div|p|span)>/.exec(body)?.[1];
        refusals.set(
          `${route} ${res.status}`,
          (message ?? body)
            .replace(/<[^>]+>/g, " ")
            .replace(/\s+/g, " ")
            .trim()
            .slice(0, 160),
        );
      }
    } catch {
      record(route, performance.now() - t0, 0);
    }
  };
  // Each member from an address of their own (through a trusted proxy), as a household's devices are.
  const member = (i: number) => ({ cookie: cookies[i]!, "x-forwarded-for": `10.0.${i >> 8}.${i & 255}` });
  const form = (i: number, fields: Record<string, string>): RequestInit => ({
    method: "POST",
    body: new URLSearchParams({ _csrf: csrf[i]!, ...fields }),
    headers: { ...member(i), origin: base, "content-type": "application/x-www-form-urlencoded" },
  });
  const queries = ["soak", "movie", "breaking", "soak movie 1", "soak movie 2"];
  let requested = 0;
  // One operation of the mix; weights are out of 100.
  const operation = (n: number) => {
    // Spread every kind of operation over every member (the kind below depends on n % 100).
    const i = (n + Math.floor(n / 100)) % USERS;
    const headers = member(i);
    const roll = (n * 7919) % 100;
    if (roll < 28) return call("GET /", "/", { headers });
    if (roll < 36) return call("GET /status", "/status", { headers });
    if (roll < 44) return call("GET /notifications", "/notifications", { headers });
    if (roll < 52) return call("GET /requests", "/requests", { headers });
    if (roll < 58) return call("GET /downloads", "/downloads", { headers });
    if (roll < 74) {
      // Mostly repeated (cached) searches, with a share of new ones.
      const q = roll < 70 ? queries[n % queries.length]! : `soak movie ${n % MOVIES}`;
      return call("GET /search", `/search?q=${encodeURIComponent(q)}`, { headers });
    }
    if (roll < 84) return call("GET /title/movie/:id", `/title/movie/${1000 + (n % MOVIES)}`, { headers });
    if (roll < 88) {
      // Each member asks for a few movies of their own.
      const movie = 1000 + (requested++ % MOVIES);
      return call("POST /title/movie/:id/request", `/title/movie/${movie}/request`, {
        ...form(i, { is4k: "0" }),
        headers: { ...form(i, {}).headers, "hx-request": "true" },
      });
    }
    if (roll < 96) {
      const made = seerr.mediaRequests();
      if (made.length === 0) return call("GET /", "/", { headers });
      const r = made[n % made.length]!;
      const type = (["MEDIA_APPROVED", "MEDIA_AVAILABLE", "MEDIA_PENDING"] as const)[n % 3]!;
      sent++;
      const t0 = performance.now();
      return seerr
        .sendWebhook({ url: `${base}/api/v1/webhooks/seerr`, authHeader: webhookHeader }, type, Number(r.id))
        .then(async (res) => {
          await res.arrayBuffer();
          record("POST /api/v1/webhooks/seerr", performance.now() - t0, res.status);
        })
        .catch(() => record("POST /api/v1/webhooks/seerr", performance.now() - t0, 0));
    }
    return call("GET /healthz", "/healthz");
  };

  // SSE clients: each holds /events open for 5-30 s, then leaves and another takes its place.
  const open = new Set<AbortController>();
  let stopSse = false;
  const sseClient = async (k: number) => {
    while (!stopSse) {
      const abort = new AbortController();
      open.add(abort);
      const t0 = performance.now();
      try {
        const res = await fetch(`${base}/events`, {
          headers: { ...member(k % USERS), accept: "text/event-stream" },
          signal: abort.signal,
        });
        record("GET /events", performance.now() - t0, res.status);
        const reader = res.body!.getReader();
        const leave = Bun.sleep(5000 + ((k * 7877) % 25_000)).then(() => abort.abort());
        for (;;) {
          const { done } = await reader.read();
          if (done) break;
        }
        await leave;
      } catch {
        if (!abort.signal.aborted) record("GET /events", performance.now() - t0, 0);
      } finally {
        open.delete(abort);
      }
    }
  };

  /** The whole mix at RATE operations a second, SSE clients and a download every 15 s, for ms; then all leave. */
  let n = 0;
  const load = async (ms: number) => {
    const began = Date.now();
    stopSse = false;
    const sse = Array.from({ length: SSE_CLIENTS }, (_, k) => sseClient(k));
    const downloads = (async () => {
      for (let d = 0; Date.now() - began < ms; d++) {
        void call(
          "POST /downloads",
          "/downloads",
          // By the download's own count: the operation counter moves 600 between two downloads, a multiple of
          // USERS, so it named one account every time and ran it into the preview limit.
          form(d % USERS, { url: `${site.url}/one.html`, quality: "720", sectionKey: "7" }),
        );
        await Bun.sleep(15_000);
      }
    })();
    const inFlight = new Set<Promise<unknown>>();
    for (let k = 0; Date.now() - began < ms; k++, n++) {
      const wait = began + (k * 1000) / RATE - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      const p = operation(n);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    stopSse = true;
    for (const a of open) a.abort();
    await Promise.allSettled([...inFlight, ...sse, downloads]);
  };

  const samples: Sample[] = [];
  let t0 = Date.now();
  const sample = async (phase: Sample["phase"]) => {
    samples.push({
      atMs: Date.now() - t0,
      rssMiB: rssMiB(pid),
      fds: fdCount(pid),
      streams: await liveStreams(base),
      phase,
    });
  };
  // A warm-up of the same load (pools, caches and the JIT fill up), then a pause: the figures to come back to.
  const idleCodeMiB = binaryCodeMiB(pid, bin);
  console.log(`soak ${backend}: warming up for ${WARMUP_MS / 1000} s …`);
  await load(WARMUP_MS);
  await Bun.sleep(5000);
  routes.clear();
  refusals.clear();
  sent = 0;
  errors = 0;
  const start = { rssMiB: rssMiB(pid), fds: startFds, streams: startStreams };

  console.log(`soak ${backend}: ${RATE} operations/s and ${SSE_CLIENTS} SSE clients for ${LOAD_MS / 60_000} min …`);
  t0 = Date.now();
  const sampler = setInterval(() => void sample("load"), SAMPLE_MS);
  await load(LOAD_MS);
  clearInterval(sampler);

  console.log(`soak ${backend}: load over; idling ${COOLDOWN_MS / 60_000} min …`);
  const coolStart = Date.now();
  while (Date.now() - coolStart < COOLDOWN_MS) {
    await Bun.sleep(SAMPLE_MS);
    await sample("cooldown");
  }
  // RSS before the scrape, which allocates.
  const endRss = rssMiB(pid);
  const metrics = await scrape(base);
  const end = { rssMiB: endRss, fds: fdCount(pid), streams: sampleOf(metrics, "medianest_live_streams") };
  const heap = {
    used: sampleOf(metrics, "nodejs_heap_size_used_bytes") / 1024 ** 2,
    size: sampleOf(metrics, "nodejs_heap_size_total_bytes") / 1024 ** 2,
  };
  const endKinds = fdsNow();
  const endParts =
    `${statusMiB(pid, "RssAnon").toFixed(1)} MiB anonymous (the JS heap ${heap.used.toFixed(1)} MiB used of ${heap.size.toFixed(1)}), ` +
    `${statusMiB(pid, "RssFile").toFixed(1)} MiB file-backed (the binary's code ${binaryCodeMiB(pid, bin).toFixed(1)} MiB, ${idleCodeMiB.toFixed(1)} before the warm-up)`;
  const pgConnections = endKinds[PG_CONNECTION] ?? 0;
  const fdChange = Object.entries(endKinds)
    .map(([k, n]) => [k, n - (startKinds[k] ?? 0)] as const)
    .filter(([, d]) => d !== 0)
    .map(([k, d]) => `${k} ${d > 0 ? "+" : ""}${d}`)
    .join(", ");
  const loadSamples = samples.filter((s) => s.phase === "load");
  const secondHalf = loadSamples.filter((s) => s.atMs >= LOAD_MS / 2);
  const slopeMiBPerMin = slope(secondHalf.map((s) => [s.atMs / 60_000, s.rssMiB]));
  const downloadsCompleted = readdirSync(library, { recursive: true }).filter((f) => String(f).endsWith(".mp4")).length;

  await server.kill("SIGTERM");
  await seerr.stop();
  await site.stop();
  if (redisPrefix) await cleanRedisPrefix(redisPrefix);
  await pg?.drop();
  return {
    backend,
    routes,
    samples,
    start,
    end,
    slopeMiBPerMin,
    peakRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
    errors,
    sent,
    downloadsCompleted,
    fdChange,
    pgConnectionsAtStart: startKinds[PG_CONNECTION] ?? 0,
    pgConnections,
    refusals,
    endParts,
  };
}

function report(results: SoakResult[], loadBefore: number[]): string {
  const lines: string[] = [];
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  lines.push(
    "# Soak",
    "",
    `Written by \`bun run soak\` (test/bench/soak.ts) on ${new Date().toISOString().slice(0, 10)}: ${LOAD_MS / 60_000} min of load at ${RATE} operations a second plus ${SSE_CLIENTS} SSE clients coming and going, then ${COOLDOWN_MS / 60_000} min idle; RSS, file descriptors and live streams sampled every ${SAMPLE_MS / 1000} s.`,
    "",
    `Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Linux ${release()}, Bun ${Bun.version}; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before the run.`,
    "",
  );
  for (const r of results) {
    const judged: [string, string, boolean][] = [
      ["zero errors (5xx or failed connection)", `${r.errors} of ${r.sent}`, r.errors === 0],
      [
        "RSS slope over the second half of the load under 1 MiB/min",
        `${r.slopeMiBPerMin.toFixed(2)} MiB/min`,
        r.slopeMiBPerMin < 1,
      ],
      [
        "RSS at the end of the cool-down under 80 MiB",
        `${r.end.rssMiB.toFixed(1)} MiB (${r.endParts}; peak ${r.peakRssMiB.toFixed(1)})`,
        r.end.rssMiB < 80,
      ],
      [
        "file descriptors back to their start (PostgreSQL connections apart)",
        `${r.start.fds} → ${r.end.fds}${r.fdChange ? ` (${r.fdChange})` : ""}`,
        fdsBack(r),
      ],
      ...(r.backend === "postgres"
        ? ([
            [
              `PostgreSQL connections within the pool's ${PG_POOL_MAX}`,
              `${r.pgConnections}`,
              r.pgConnections <= PG_POOL_MAX,
            ],
          ] as [string, string, boolean][])
        : []),
      ["live streams back to their start", `${r.start.streams} → ${r.end.streams}`, r.end.streams === r.start.streams],
    ];
    lines.push(
      `## ${r.backend === "sqlite" ? "SQLite" : "PostgreSQL + Redis"}`,
      "",
      "| target | measured | met |",
      "| --- | --- | --- |",
    );
    for (const [t, m, ok] of judged) lines.push(`| ${t} | ${m} | ${ok ? "yes" : "**no**"} |`);
    lines.push(
      "",
      `Downloads completed: ${r.downloadsCompleted}. RSS at the start of the load: ${r.start.rssMiB.toFixed(1)} MiB.`,
      "",
    );
    lines.push("| route | requests | p50 ms | p99 ms | statuses |", "| --- | ---: | ---: | ---: | --- |");
    for (const [route, s] of [...r.routes].sort(([a], [b]) => a.localeCompare(b)))
      lines.push(
        `| ${route} | ${s.ms.length} | ${pct(s.ms, 0.5).toFixed(1)} | ${pct(s.ms, 0.99).toFixed(1)} | ${[...s.statuses].map(([k, v]) => `${k || "failed"}: ${v}`).join(", ")} |`,
      );
    for (const [k, text] of r.refusals) lines.push("", `First ${k} answer: “${text}”`);
    lines.push(
      "",
      `RSS (MiB) every ${SAMPLE_MS / 1000} s: ${r.samples.map((s) => `${s.phase === "cooldown" ? "~" : ""}${s.rssMiB.toFixed(0)}`).join(" ")} (~ marks the cool-down).`,
      "",
    );
  }
  return lines.join("\n");
}

const loadBefore = loadavg();
const work = workDir("soak");
try {
  console.log("soak: building the binary …");
  const bin = await buildBinary(work.dir);
  const results: SoakResult[] = [];
  for (const backend of BACKENDS) results.push(await soak(backend, bin, work.dir));
  const text = report(results, loadBefore);
  console.log(text);
  if (process.argv.includes("--write-doc")) writeFileSync(join(ROOT, "docs", "soak.md"), `${text.trimEnd()}\n`);
  const failed = results.some(
    (r) =>
      r.errors > 0 ||
      r.slopeMiBPerMin >= 1 ||
      r.end.rssMiB >= 80 ||
      !fdsBack(r) ||
      r.pgConnections > PG_POOL_MAX ||
      r.end.streams !== r.start.streams,
  );
  process.exitCode = failed ? 1 : 0;
} finally {
  work.remove();
}
