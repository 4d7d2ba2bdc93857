/**
 * The dashboard's Plex data: what is playing now (the owner's token, cached once for everyone) and what was added
 * lately (each viewer's own token, cached per viewer, so a member sees only the libraries Plex shares with them),
 * kept in the coordination cache so many page loads cost few Plex calls.
 */
import type { PlexNowPlaying } from "../integrations/plex/types";
import type { AppDeps } from "../app/deps";
import type { User } from "../store/users";
import { getIntegrations, type PlexIntegration } from "./integrations";
import { viewerToken } from "./library";
import { plexServerClient } from "./plex-server";

type DashboardDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "coordination" | "log">;

/** How long now playing stays cached. */
export const NOW_PLAYING_TTL_MS = 10_000;
/** How long recently added stays cached. */
export const RECENTLY_ADDED_TTL_MS = 60_000;
/** How long a failed Plex call is remembered, so a down server is not asked again by every page load. */
export const FAILURE_TTL_MS = 5_000;
/** How many recently added items the dashboard shows. */
export const RECENTLY_ADDED_LIMIT = 12;

/** One recently added item, in a shape the cache can hold as JSON. */
export interface RecentItem {
  ratingKey: string;
  type: string;
  title: string;
  /** The show and episode, or the artist, when the item is part of something bigger. */
  context: string | null;
  year: number | null;
  /** Plex image path; mint a proxy URL before it reaches a page. */
  thumb: string | null;
  /** Epoch milliseconds. */
  addedAt: number | null;
  sectionKey: string | null;
}

/** A cached Plex answer: the data, or the readable reason it could not be had. */
export type PlexResult<T> = { ok: true; data: T; at: number } | { ok: false; error: string; at: number };

/** What the dashboard already knows about Plex without asking it. */
export type CachedPlex =
  | { configured: false }
  | {
      configured: true;
      nowPlaying: PlexResult<PlexNowPlaying[]> | undefined;
      /** "unlinked" / "stale": the viewer has no token of their own for the server (see plexViewer). */
      recentlyAdded: PlexResult<RecentItem[]> | "unlinked" | "stale" | undefined;
    };

function cacheKey(kind: "now-playing", plex: PlexIntegration): string {
  return `dashboard:${kind}:${plex.machineIdentifier ?? plex.url}`;
}

function recentKey(cacheId: string): string {
  return `dashboard:recently-added:${cacheId}`;
}

async function peek<T>(deps: DashboardDeps, key: string): Promise<PlexResult<T> | undefined> {
  try {
    const hit = await deps.coordination.cache.get<PlexResult<T>>(key);
    // The cache may be shared with another version during a rolling upgrade: use only what has the right shape.
    if (!hit || typeof hit !== "object" || typeof hit.ok !== "boolean") return undefined;
    if (hit.ok ? !Array.isArray(hit.data) : typeof hit.error !== "string") return undefined;
    return hit;
  } catch (err) {
    // Without the cache the page still renders; the sections then load on their own.
    deps.log.warn("dashboard: cannot read the cache", { key, error: (err as Error).message });
    return undefined;
  }
}

/** Read what is cached for a user's dashboard; never calls Plex. */
export async function peekDashboard(deps: DashboardDeps, user: User): Promise<CachedPlex> {
  const { plex } = await getIntegrations(deps);
  if (!plex) return { configured: false };
  const who = viewerToken(deps, user, plex);
  const [nowPlaying, recentlyAdded] = await Promise.all([
    peek<PlexNowPlaying[]>(deps, cacheKey("now-playing", plex)),
    "kind" in who ? who.kind : peek<RecentItem[]>(deps, recentKey(who.cacheId)),
  ]);
  return { configured: true, nowPlaying, recentlyAdded };
}

async function cached<T>(
  deps: DashboardDeps,
  key: string,
  ttlMs: number,
  compute: () => Promise<T>,
): Promise<PlexResult<T>> {
  const hit = await peek<T>(deps, key);
  if (hit) return hit;
  try {
    return await deps.coordination.cache.wrap<PlexResult<T>>(key, ttlMs, async () => ({
      ok: true,
      data: await compute(),
      at: Date.now(),
    }));
  } catch (err) {
    const failure: PlexResult<T> = { ok: false, error: (err as Error).message, at: Date.now() };
    await deps.coordination.cache.set(key, failure, FAILURE_TTL_MS).catch(() => {});
    return failure;
  }
}

/** Return the playbacks in progress on the Plex server (all of them; filter with streamsVisibleTo); undefined when Plex is not configured. */
export async function getNowPlaying(deps: DashboardDeps): Promise<PlexResult<PlexNowPlaying[]> | undefined> {
  const { plex } = await getIntegrations(deps);
  if (!plex) return undefined;
  return cached(deps, cacheKey("now-playing", plex), NOW_PLAYING_TTL_MS, async () =>
    (await plexServerClient(deps, plex)).listSessions(),
  );
}

/**
 * Return the newest items across the libraries Plex shares with the user, read with their own token; "unlinked" or
 * "stale" when they have none for this server; undefined when Plex is not configured.
 */
export async function getRecentlyAdded(
  deps: DashboardDeps,
  user: User,
): Promise<PlexResult<RecentItem[]> | "unlinked" | "stale" | undefined> {
  const { plex } = await getIntegrations(deps);
  if (!plex) return undefined;
  const who = viewerToken(deps, user, plex);
  if ("kind" in who) return who.kind;
  return cached(deps, recentKey(who.cacheId), RECENTLY_ADDED_TTL_MS, async () => {
    const client = await plexServerClient(deps, { ...plex, token: who.token });
    const items = await client.listRecentlyAdded(RECENTLY_ADDED_LIMIT);
    return items.slice(0, RECENTLY_ADDED_LIMIT).map((m): RecentItem => {
      let context: string | null = null;
      if (m.type === "episode") {
        const code = m.parentIndex != null && m.index != null ? `S${m.parentIndex}·E${m.index}` : null;
        context = [m.grandparentTitle, code].filter(Boolean).join(" · ") || null;
      } else if (m.type === "season" || m.type === "album" || m.type === "track") {
        context = m.parentTitle ?? m.grandparentTitle;
      }
      return {
        ratingKey: m.ratingKey,
        type: m.type,
        title: m.title,
        context,
        year: m.year,
        thumb: m.thumb,
        addedAt: m.addedAt ? m.addedAt.getTime() : null,
        sectionKey: m.sectionKey,
      };
    });
  });
}

/**
 * Drop the cached dashboard data, e.g. after the Plex server changed: now playing and the owner's recently added.
 * Members' own recently added lists are keyed by server and expire within RECENTLY_ADDED_TTL_MS.
 */
export async function forgetDashboardCache(
  deps: Pick<AppDeps, "database" | "secretBox" | "coordination">,
): Promise<void> {
  const { plex } = await getIntegrations(deps);
  if (!plex) return;
  await Promise.all([
    deps.coordination.cache.delete(cacheKey("now-playing", plex)),
    deps.coordination.cache.delete(recentKey(`${plex.machineIdentifier ?? plex.url}:owner`)),
  ]);
}

/**
 * Keep the playbacks a user may see: admins see all; a member sees their own. Plex names the account in
 * User.id (the plex.tv account id, except "1" for the owner) and User.title (the Plex username): a member
 * linked to Plex matches by id (by username only when Plex sends no id). A member not linked to Plex sees none:
 * a local or single-sign-on user name proves nothing about who is watching.
 */
export function streamsVisibleTo(
  user: Pick<User, "role" | "plexId" | "username">,
  streams: PlexNowPlaying[],
): PlexNowPlaying[] {
  if (user.role === "admin") return streams;
  return streams.filter((s) => {
    if (user.plexId != null) {
      if (s.user.id != null) return s.user.id === String(user.plexId);
      return s.user.title.toLowerCase() === user.username.toLowerCase();
    }
    return false;
  });
}
