/**
 * The status of everything MediaNest depends on. `runStatusChecks` (a job, and the admin's "Check now") asks
 * every configured integration whether it answers, records one service_checks row each, reads Uptime Kuma's
 * status page, and caches the resulting overview; pages only ever read that cache (`getStatusOverview`), so a
 * slow integration never holds a page.
 */
import { DEFAULT_TIMEOUT_MS, IntegrationError, type IntegrationObserver } from "../integrations/http";
import { createPlexClient } from "../integrations/plex/client";
import { createSeerrClient } from "../integrations/seerr/client";
import { createKumaClient } from "../integrations/uptime-kuma/client";
import type { KumaMonitorHeartbeats, KumaStatusPage } from "../integrations/uptime-kuma/types";
import type { AppDeps } from "../app/deps";
import {
  insertServiceChecks,
  listRecentServiceChecks,
  type ServiceCheck,
  type ServiceCheckCounts,
  type ServiceCheckSummary,
  summariseServiceChecks,
} from "../store/service-checks";
import { VERSION } from "../version";
import { plexClientIdentifier } from "./auth-settings";
import { publishEvent, topics } from "./events";
import { readYtdlpVersion } from "./integration-checks";
import { integrationObserver } from "./integration-observer";
import { getIntegrations, type Integrations } from "./integrations";
import type { CheckPoint, ServiceState, ServiceTile, StatusAnnouncement, StatusOverview } from "./status-types";

type StatusReadDeps = Pick<AppDeps, "database" | "secretBox" | "coordination" | "log">;
type StatusDeps = Pick<AppDeps, "database" | "secretBox" | "coordination" | "metrics" | "fetch" | "log">;

/** The coordination cache key of the latest overview. */
export const STATUS_OVERVIEW_CACHE_KEY = "status:overview";
/** How long a computed overview stays cached; the checks job replaces it every minute. */
export const STATUS_OVERVIEW_TTL_MS = 15 * 60_000;
/** The overview built from stored checks before the checks job has cached its own, and how long it is kept. */
export const STORED_OVERVIEW_CACHE_KEY = "status:overview:stored";
export const STORED_OVERVIEW_TTL_MS = 30_000;
/** How many checks a tile's strip shows. */
export const STATUS_RECENT_LIMIT = 50;
/** The group MediaNest's own checks are shown under. */
export const OWN_GROUP = "MediaNest";

const DAY_MS = 86_400_000;

/** An integration MediaNest checks itself. */
export type OwnService = "plex" | "seerr" | "kuma" | "ytdlp";

const OWN_SERVICES: { id: OwnService; name: string }[] = [
  { id: "plex", name: "Plex" },
  { id: "seerr", name: "Seerr" },
  { id: "kuma", name: "Uptime Kuma" },
  { id: "ytdlp", name: "yt-dlp" },
];

export interface RunStatusChecksOptions {
  /** Timeout of each check (default 5 s). */
  timeoutMs?: number;
}

export interface StatusRunResult {
  overview: StatusOverview;
  /** True when some tile's state, the announcements or the source errors differ from the previous overview. */
  changed: boolean;
}

interface CheckResult {
  service: OwnService;
  state: "up" | "degraded" | "down";
  responseMs: number;
  message: string | null;
}

interface KumaData {
  page: KumaStatusPage;
  heartbeats: Map<number, KumaMonitorHeartbeats>;
}

/** Check every configured integration, record the results, cache the overview and tell open pages when it changed. */
export async function runStatusChecks(deps: StatusDeps, opts: RunStatusChecksOptions = {}): Promise<StatusRunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const integrations = await getIntegrations(deps);
  const observer = integrationObserver(deps);
  const configured = configuredServices(integrations);

  let kuma: KumaData | undefined;
  let kumaError: string | undefined;
  const checks = await Promise.all(
    configured.map(async (service): Promise<CheckResult> => {
      switch (service) {
        case "plex":
          return checkPlex(deps, integrations, timeoutMs, observer);
        case "seerr":
          return checkSeerr(deps, integrations, timeoutMs, observer);
        case "ytdlp":
          return checkYtdlp(integrations.ytdlpPath, timeoutMs, observer);
        case "kuma": {
          const r = await checkKuma(deps, integrations, timeoutMs, observer);
          kuma = r.data;
          kumaError = r.result.state === "down" ? (r.result.message ?? "Uptime Kuma could not be read") : undefined;
          return r.result;
        }
      }
    }),
  );

  const now = new Date();
  const previous = await readCachedOverview(deps);
  const kumaPart = kuma
    ? kumaTiles(kuma)
    : staleKumaTiles(previous, configured.includes("kuma") ? kumaError : undefined);
  // Kuma's public page gives 24 h only, so each monitor read this time joins MediaNest's own history.
  const freshKuma = kuma ? kumaPart.tiles : [];
  await insertServiceChecks(deps.database, [
    ...checks.map((c) => ({
      id: crypto.randomUUID(),
      service: c.service,
      checkedAt: now,
      status: c.state,
      responseMs: c.responseMs,
      message: c.message,
    })),
    ...freshKuma.map((t) => ({
      id: crypto.randomUUID(),
      service: t.id,
      checkedAt: now,
      status: t.state,
      responseMs: t.responseMs,
      message: t.reason,
    })),
  ]);
  for (const s of OWN_SERVICES) {
    const c = checks.find((x) => x.service === s.id);
    if (c) deps.metrics.integrationUp.set({ service: s.id }, c.state === "down" ? 0 : 1);
    else deps.metrics.integrationUp.remove({ service: s.id });
  }

  const own = await buildOwnTiles(deps, configured, now);
  logTransitions(deps, previous, own);
  const overview: StatusOverview = {
    tiles: [...own, ...(await withKumaHistory(deps, kumaPart.tiles, now))],
    announcements: kumaPart.announcements,
    sourceErrors: kumaError ? [kumaError] : [],
    updatedAt: now,
  };
  const changed = !previous || signature(previous) !== signature(overview);
  try {
    await deps.coordination.cache.set(STATUS_OVERVIEW_CACHE_KEY, toWire(overview), STATUS_OVERVIEW_TTL_MS);
    local.delete(deps.coordination);
  } catch (err) {
    deps.log.warn("status: unable to cache the overview", { error: (err as Error).message });
  }
  if (changed) await publishEvent(deps, topics.everyone, { type: "status" });
  return { overview, changed };
}

/** Log an integration going down (warn) or coming back (info), once per change, never on every poll. */
function logTransitions(deps: Pick<AppDeps, "log">, previous: StatusOverview | undefined, tiles: ServiceTile[]): void {
  if (!previous) return;
  for (const tile of tiles) {
    const before = previous.tiles.find((t) => t.id === tile.id)?.state;
    if (before === undefined || before === "unknown" || tile.state === "unknown") continue;
    const wasDown = before === "down";
    const isDown = tile.state === "down";
    if (!wasDown && isDown) {
      deps.log.warn("status: integration down", { service: tile.id, name: tile.name, reason: tile.reason });
    } else if (wasDown && !isDown) {
      deps.log.info("status: integration recovered", { service: tile.id, name: tile.name, state: tile.state });
    }
  }
}

// Every dashboard and status page shows the overview: each replica keeps the one it read for a second on top of the
// shared cache, rather than parsing it again for every page. A new overview of this replica's replaces it at once;
// one from another replica shows within the second, and open pages are told over SSE.
const LOCAL_MS = 1000;
const local = new WeakMap<object, { overview: StatusOverview; until: number }>();

/** Return the latest overview at once: the cached one, or (before the first run) one built from stored checks. */
export async function getStatusOverview(deps: StatusReadDeps): Promise<StatusOverview> {
  const hit = local.get(deps.coordination);
  if (hit && hit.until > performance.now()) return hit.overview;
  const overview = await readOverview(deps);
  local.set(deps.coordination, { overview, until: performance.now() + LOCAL_MS });
  return overview;
}

async function readOverview(deps: StatusReadDeps): Promise<StatusOverview> {
  const cached = await readCachedOverview(deps);
  if (cached) return cached;
  // Summing 30 days of checks takes tens of milliseconds on a month of history: the pages that ask before the first
  // run (every dashboard for up to a minute after a restart) share one build, kept under a key of its own, so the
  // checks job's overview always wins over it.
  try {
    const w = await deps.coordination.cache.wrap(STORED_OVERVIEW_CACHE_KEY, STORED_OVERVIEW_TTL_MS, async () =>
      toWire(await overviewFromStoredChecks(deps)),
    );
    if (w && w.v === 2 && Array.isArray(w.tiles)) return fromWire(w);
  } catch (err) {
    deps.log.warn("status: unable to cache the overview from stored checks", { error: (err as Error).message });
  }
  return overviewFromStoredChecks(deps);
}

/** Drop the overview built from stored checks (the configured services changed); the checks job's own stays. */
export async function forgetStoredOverview(deps: Pick<AppDeps, "coordination">): Promise<void> {
  await deps.coordination.cache.delete(STORED_OVERVIEW_CACHE_KEY);
  local.delete(deps.coordination);
}

async function overviewFromStoredChecks(deps: StatusReadDeps): Promise<StatusOverview> {
  const integrations = await getIntegrations(deps);
  const configured = configuredServices(integrations);
  const tiles = await buildOwnTiles(deps, configured, new Date());
  const times = tiles.flatMap((t) => t.recent.map((r) => r.at.getTime()));
  return {
    tiles,
    announcements: [],
    sourceErrors: [],
    updatedAt: times.length > 0 ? new Date(Math.max(...times)) : null,
  };
}

/** Compute the fraction of checks that found a service available (degraded counts as available; maintenance and unknown are left out). */
export function uptimeFraction(counts: ServiceCheckCounts | undefined): number | null {
  if (!counts) return null;
  const up = (counts.up ?? 0) + (counts.degraded ?? 0);
  const total = up + (counts.down ?? 0);
  return total === 0 ? null : up / total;
}

function configuredServices(i: Integrations): OwnService[] {
  const out: OwnService[] = [];
  if (i.plex) out.push("plex");
  if (i.seerr) out.push("seerr");
  if (i.kuma) out.push("kuma");
  if (i.ytdlpConfigured) out.push("ytdlp");
  return out;
}

// --- the checks ---------------------------------------------------------------------------------------------

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Turn a failed call into words that say what is wrong and what to check. */
function describeFailure(name: string, err: unknown, credential: string | null): string {
  if (err instanceof IntegrationError) {
    if (err.kind === "unauthorized" && credential)
      return `${name} answered ${err.status ?? 401}: check the ${credential}`;
    return err.message;
  }
  return `${name} check failed: ${err instanceof Error ? err.message : String(err)}`;
}

async function checkPlex(
  deps: StatusDeps,
  i: Integrations,
  timeoutMs: number,
  observer: IntegrationObserver,
): Promise<CheckResult> {
  const plex = i.plex!;
  const started = performance.now();
  try {
    const client = createPlexClient({
      baseUrl: plex.url,
      token: plex.token,
      clientIdentifier: await plexClientIdentifier(deps),
      version: VERSION,
      fetch: deps.fetch,
      timeoutMs,
      observer,
    });
    const identity = await client.getIdentity();
    const ms = elapsed(started);
    if (plex.machineIdentifier && identity.machineIdentifier !== plex.machineIdentifier) {
      return {
        service: "plex",
        state: "degraded",
        responseMs: ms,
        message: `Plex answered, but it is a different server (machine id ${identity.machineIdentifier.slice(0, 12)}…)`,
      };
    }
    return { service: "plex", state: "up", responseMs: ms, message: `Plex Media Server ${identity.version}` };
  } catch (err) {
    return {
      service: "plex",
      state: "down",
      responseMs: elapsed(started),
      message: describeFailure("Plex", err, "token"),
    };
  }
}

async function checkSeerr(
  deps: StatusDeps,
  i: Integrations,
  timeoutMs: number,
  observer: IntegrationObserver,
): Promise<CheckResult> {
  const seerr = i.seerr!;
  const started = performance.now();
  try {
    const status = await createSeerrClient({
      baseUrl: seerr.url,
      apiKey: seerr.apiKey,
      fetch: deps.fetch,
      timeoutMs,
      observer,
    }).getStatus();
    const ms = elapsed(started);
    if (status.restartRequired)
      return {
        service: "seerr",
        state: "degraded",
        responseMs: ms,
        message: `Seerr ${status.version} asks for a restart`,
      };
    return { service: "seerr", state: "up", responseMs: ms, message: `Seerr ${status.version}` };
  } catch (err) {
    return {
      service: "seerr",
      state: "down",
      responseMs: elapsed(started),
      message: describeFailure("Seerr", err, "API key"),
    };
  }
}

async function checkKuma(
  deps: StatusDeps,
  i: Integrations,
  timeoutMs: number,
  observer: IntegrationObserver,
): Promise<{ result: CheckResult; data?: KumaData }> {
  const kuma = i.kuma!;
  const started = performance.now();
  const client = createKumaClient({ baseUrl: kuma.url, apiKey: kuma.apiKey, fetch: deps.fetch, timeoutMs, observer });
  const [page, heartbeats] = await Promise.allSettled([
    client.getStatusPage(kuma.slug),
    client.getHeartbeats(kuma.slug),
  ]);
  const ms = elapsed(started);
  if (page.status === "rejected" || heartbeats.status === "rejected") {
    const err = page.status === "rejected" ? page.reason : (heartbeats as PromiseRejectedResult).reason;
    return {
      result: { service: "kuma", state: "down", responseMs: ms, message: describeFailure("Uptime Kuma", err, null) },
    };
  }
  return {
    result: { service: "kuma", state: "up", responseMs: ms, message: `status page "${page.value.title}"` },
    data: { page: page.value, heartbeats: heartbeats.value },
  };
}

/** Check yt-dlp by the version it reports (shared with the integrations page's test). */
async function checkYtdlp(path: string, timeoutMs: number, observer: IntegrationObserver): Promise<CheckResult> {
  const started = performance.now();
  const v = await readYtdlpVersion(path, timeoutMs);
  observer.onDuration?.("ytdlp", (performance.now() - started) / 1000);
  if (!v.ok) {
    observer.onIntegrationError?.("ytdlp", v.kind);
    return { service: "ytdlp", state: "down", responseMs: elapsed(started), message: v.message };
  }
  return { service: "ytdlp", state: "up", responseMs: elapsed(started), message: `yt-dlp ${v.version}` };
}

// --- tiles --------------------------------------------------------------------------------------------------

/** Read each service's history (24 h, 7 d, 30 d and where it starts) in one query. */
async function readHistory(
  deps: Pick<AppDeps, "database">,
  services: string[],
  now: Date,
): Promise<Map<string, ServiceCheckSummary>> {
  const t = now.getTime();
  return summariseServiceChecks(deps.database, services, {
    day: new Date(t - DAY_MS),
    week: new Date(t - 7 * DAY_MS),
    month: new Date(t - 30 * DAY_MS),
    // A day further back: history that reaches past the 30 days covers them (retention keeps 31).
    from: new Date(t - 31 * DAY_MS),
  });
}

async function buildOwnTiles(
  deps: Pick<AppDeps, "database">,
  services: OwnService[],
  now: Date,
): Promise<ServiceTile[]> {
  if (services.length === 0) return [];
  const [history, recents] = await Promise.all([
    readHistory(deps, services, now),
    Promise.all(services.map((s) => listRecentServiceChecks(deps.database, s, STATUS_RECENT_LIMIT))),
  ]);
  return services.map((service, index) => {
    const name = OWN_SERVICES.find((s) => s.id === service)?.name ?? service;
    const recent: ServiceCheck[] = recents[index] ?? [];
    const latest = recent[0];
    const state: ServiceState = latest?.status ?? "unknown";
    const h = history.get(service);
    return {
      id: service,
      name,
      group: OWN_GROUP,
      state,
      reason: !latest
        ? "not checked yet"
        : state === "up" || state === "maintenance"
          ? null
          : (latest.message ?? (state === "unknown" ? "no result recorded" : `${name} is ${state}`)),
      responseMs: latest?.responseMs ?? null,
      uptime: {
        day: uptimeFraction(h?.day),
        week: uptimeFraction(h?.week),
        month: uptimeFraction(h?.month),
      },
      measuredSince: h?.firstAt ?? null,
      measured: ["day", "week", "month"],
      recent: recent
        .slice()
        .reverse()
        .map((r): CheckPoint => ({ at: r.checkedAt, state: r.status, responseMs: r.responseMs })),
      source: "medianest",
    };
  });
}

/** Give Kuma tiles their 7 d and 30 d from MediaNest's own record of each monitor (Kuma's public page has 24 h only). */
async function withKumaHistory(
  deps: Pick<AppDeps, "database">,
  tiles: ServiceTile[],
  now: Date,
): Promise<ServiceTile[]> {
  if (tiles.length === 0) return tiles;
  const history = await readHistory(
    deps,
    tiles.map((t) => t.id),
    now,
  );
  return tiles.map((t) => {
    const h = history.get(t.id);
    return {
      ...t,
      uptime: { day: t.uptime.day, week: uptimeFraction(h?.week), month: uptimeFraction(h?.month) },
      measuredSince: h?.firstAt ?? null,
      measured: ["week", "month"],
    };
  });
}

const BEAT_STATE: Record<string, ServiceState> = {
  up: "up",
  down: "down",
  pending: "degraded",
  maintenance: "maintenance",
  unknown: "unknown",
};

function kumaTiles(data: KumaData): { tiles: ServiceTile[]; announcements: StatusAnnouncement[] } {
  const tiles: ServiceTile[] = [];
  const seen = new Set<number>();
  for (const group of data.page.groups) {
    for (const m of group.monitors) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      const hb = data.heartbeats.get(m.id);
      const beats = hb?.beats ?? [];
      const latest = beats.at(-1);
      const state = latest ? (BEAT_STATE[latest.status] ?? "unknown") : "unknown";
      let reason: string | null = null;
      if (!latest) reason = "Uptime Kuma has no checks for this monitor yet";
      else if (latest.status === "unknown")
        reason = `Uptime Kuma sent a status it does not document (${latest.statusCode})`;
      // A real Kuma blanks every public heartbeat's message, so a reason is shown only when one came through.
      else if (state === "down")
        reason = latest.msg.trim() || "Uptime Kuma reports it down (its public status page does not say why)";
      else if (state === "degraded")
        reason = latest.msg.trim() ? `retrying: ${latest.msg.trim()}` : "Uptime Kuma is retrying (pending)";
      tiles.push({
        id: `kuma:${m.id}`,
        name: m.name,
        group: group.name,
        state,
        reason,
        responseMs: latest?.ping ?? null,
        uptime: { day: hb?.uptime24 ?? null, week: null, month: null },
        measuredSince: null,
        measured: [],
        recent: beats
          .slice(-STATUS_RECENT_LIMIT)
          .map((b) => ({ at: b.time, state: BEAT_STATE[b.status] ?? "unknown", responseMs: b.ping })),
        source: "kuma",
      });
    }
  }
  const announcements: StatusAnnouncement[] = [
    ...data.page.maintenance.map((m) => ({
      title: m.title,
      content: m.description,
      style: "maintenance" as const,
      at: null,
    })),
    ...data.page.incidents.map((i) => ({
      title: i.title,
      content: i.content,
      style: incidentStyle(i.style),
      at: i.createdDate,
    })),
  ];
  return { tiles, announcements };
}

/** Keep the last known Kuma monitors when Kuma cannot be read this time, marked unknown with the reason. */
function staleKumaTiles(
  previous: StatusOverview | undefined,
  kumaError: string | undefined,
): { tiles: ServiceTile[]; announcements: StatusAnnouncement[] } {
  if (!previous || kumaError === undefined) return { tiles: [], announcements: [] };
  const tiles = previous.tiles
    .filter((t) => t.source === "kuma")
    .map((t) => ({
      ...t,
      state: "unknown" as const,
      reason: `Uptime Kuma could not be read: ${kumaError}`,
      responseMs: null,
    }));
  return { tiles, announcements: previous.announcements };
}

function incidentStyle(style: string): StatusAnnouncement["style"] {
  return style === "warning" || style === "danger" || style === "primary" ? style : "info";
}

// --- cache --------------------------------------------------------------------------------------------------

/** Describe what open pages must be told about: states, announcements and source errors (not response times). */
function signature(o: StatusOverview): string {
  return JSON.stringify([
    o.tiles.map((t) => [t.id, t.state, t.reason]).sort(),
    o.announcements.map((a) => [a.style, a.title, a.content]),
    o.sourceErrors,
  ]);
}

interface WirePoint {
  at: number;
  state: ServiceState;
  responseMs: number | null;
}
type WireTile = Omit<ServiceTile, "recent" | "measuredSince"> & { recent: WirePoint[]; measuredSince: number | null };
interface WireOverview {
  v: 2;
  tiles: WireTile[];
  announcements: (Omit<StatusAnnouncement, "at"> & { at: number | null })[];
  sourceErrors: string[];
  updatedAt: number | null;
}

// The cache holds JSON (Redis in a cluster), so Dates travel as epoch milliseconds.
function toWire(o: StatusOverview): WireOverview {
  return {
    v: 2,
    tiles: o.tiles.map((t) => ({
      ...t,
      measuredSince: t.measuredSince ? t.measuredSince.getTime() : null,
      recent: t.recent.map((r) => ({ at: r.at.getTime(), state: r.state, responseMs: r.responseMs })),
    })),
    announcements: o.announcements.map((a) => ({ ...a, at: a.at ? a.at.getTime() : null })),
    sourceErrors: o.sourceErrors,
    updatedAt: o.updatedAt ? o.updatedAt.getTime() : null,
  };
}

function fromWire(w: WireOverview): StatusOverview {
  return {
    tiles: w.tiles.map((t) => ({
      ...t,
      measuredSince: t.measuredSince === null ? null : new Date(t.measuredSince),
      recent: t.recent.map((r) => ({ at: new Date(r.at), state: r.state, responseMs: r.responseMs })),
    })),
    announcements: w.announcements.map((a) => ({ ...a, at: a.at === null ? null : new Date(a.at) })),
    sourceErrors: w.sourceErrors,
    updatedAt: w.updatedAt === null ? null : new Date(w.updatedAt),
  };
}

async function readCachedOverview(deps: Pick<AppDeps, "coordination">): Promise<StatusOverview | undefined> {
  try {
    const w = await deps.coordination.cache.get<WireOverview>(STATUS_OVERVIEW_CACHE_KEY);
    // Another version of MediaNest may have written a different shape during a rolling upgrade.
    if (!w || w.v !== 2 || !Array.isArray(w.tiles)) return undefined;
    return fromWire(w);
  } catch {
    return undefined;
  }
}
