import { Hono } from "hono";
import type { Context } from "hono";
import type { PlexNowPlaying } from "../integrations/plex/types";
import { allow } from "../server/access";
import { can } from "../services/permissions";
import type { AppDeps, AppEnv } from "../app/deps";
import {
  getNowPlaying,
  getRecentlyAdded,
  peekDashboard,
  streamsVisibleTo,
  type PlexResult,
  type RecentItem,
} from "../services/dashboard";
import { peekDiscover } from "../services/discover";
import { imageProxyKey, signedPlexImageUrl } from "../services/image-proxy";
import { getStatusOverview } from "../services/status";
import type { User } from "../store/users";
import { renderPage } from "../server/htmx";
import { cardsState } from "./cards";
import { HomePage, type DashboardView } from "../../views/pages/home";
import {
  NowPlayingSection,
  RecentlyAddedSection,
  StatusSummarySection,
  type RecentState,
  type RecentView,
  type SectionState,
  type StreamView,
} from "../../views/partials/dashboard";

// Poster sizes asked from Plex: twice the size the page shows them at, for sharp high-density screens.
const STREAM_POSTER = { w: 120, h: 180 } as const;
const RECENT_POSTER = { w: 240, h: 360 } as const;

/** Format a playback position like a player does: 1:02:03 or 12:34. */
function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function toStreamView(key: Buffer, s: PlexNowPlaying, index: number): StreamView {
  const { item, progress } = s;
  const episode = item.type === "episode";
  const track = item.type === "track";
  const duration = progress.durationMs && progress.durationMs > 0 ? progress.durationMs : null;
  const percent = duration ? Math.min(100, Math.max(0, Math.round((progress.viewOffsetMs / duration) * 100))) : null;
  return {
    key: s.sessionKey ?? `${item.ratingKey}-${index}`,
    user: s.user.title || "Someone",
    title: episode ? (item.grandparentTitle ?? item.title) : item.title,
    subtitle: episode
      ? [item.parentTitle, item.title].filter(Boolean).join(" · ")
      : track
        ? [item.grandparentTitle, item.parentTitle].filter(Boolean).join(" · ") || null
        : null,
    player: [s.player.product, s.player.title].filter(Boolean).join(" · ") || "Unknown player",
    state: s.player.state,
    percent,
    position: duration ? `${clock(progress.viewOffsetMs)} of ${clock(duration)}` : clock(progress.viewOffsetMs),
    transcoding: s.transcoding,
    location: s.location,
    posterUrl: signedPlexImageUrl(key, item.thumb, STREAM_POSTER.w, STREAM_POSTER.h),
  };
}

function toRecentView(key: Buffer, m: RecentItem): RecentView {
  return {
    key: m.ratingKey,
    title: m.title,
    context: m.context,
    year: m.year,
    posterUrl: signedPlexImageUrl(key, m.thumb, RECENT_POSTER.w, RECENT_POSTER.h),
  };
}

function nowPlayingState(
  deps: AppDeps,
  user: User,
  result: PlexResult<PlexNowPlaying[]> | undefined,
  configured: boolean,
): SectionState<StreamView[]> {
  if (!configured) return { kind: "unconfigured", isAdmin: user.role === "admin" };
  if (!result) return { kind: "loading" };
  if (!result.ok) return { kind: "error", message: result.error };
  const key = imageProxyKey(deps);
  return { kind: "ok", data: streamsVisibleTo(user, result.data).map((s, i) => toStreamView(key, s, i)) };
}

function recentlyAddedState(
  deps: AppDeps,
  user: User,
  result: PlexResult<RecentItem[]> | "unlinked" | "stale" | undefined,
  configured: boolean,
): RecentState {
  if (!configured) return { kind: "unconfigured", isAdmin: user.role === "admin" };
  if (!result) return { kind: "loading" };
  if (typeof result === "string") return { kind: "no-library", reason: result };
  if (!result.ok) return { kind: "error", message: result.error };
  const key = imageProxyKey(deps);
  return { kind: "ok", data: result.data.map((m) => toRecentView(key, m)) };
}

/** Read the status summary from the status cache (never checks anything itself). */
async function statusSummary(deps: AppDeps): Promise<NonNullable<DashboardView["status"]>> {
  try {
    return { overview: await getStatusOverview(deps) };
  } catch (err) {
    deps.log.warn("dashboard: cannot read the status overview", { error: (err as Error).message });
    return { overview: null, error: "The status summary could not be read; see the status page." };
  }
}

function signedInUser(c: Context<AppEnv>): User {
  return c.get("user")!;
}

/** Routes of the home page: the sign-in prompt or the dashboard, and the dashboard's live sections. */
export function homeRoutes() {
  const app = new Hono<AppEnv>();

  // The page itself never calls Plex: it shows what is cached and lets the sections load themselves.
  app.get("/", allow("public"), async (c) => {
    const deps = c.get("deps");
    const user = c.get("user");
    // The setup gate has already sent everyone to /setup while no admin exists.
    if (!user) return renderPage(c, "MediaNest", HomePage({ user }));
    const [cached, status, trending] = await Promise.all([
      peekDashboard(deps, user),
      statusSummary(deps),
      peekDiscover(deps, "trending"),
    ]);
    const dashboard: DashboardView = {
      status,
      nowPlaying: nowPlayingState(deps, user, cached.configured ? cached.nowPlaying : undefined, cached.configured),
      recentlyAdded: recentlyAddedState(
        deps,
        user,
        cached.configured ? cached.recentlyAdded : undefined,
        cached.configured,
      ),
      // Without Seerr a member has nothing to discover; an admin is shown where to connect it.
      discover:
        trending && !trending.ok && "unconfigured" in trending && user.role !== "admin"
          ? undefined
          : cardsState(deps, user, trending, (p) => `/discover/trending?page=${p}`),
      downloads: can(user, "download"),
      requests: can(user, "request"),
    };
    return renderPage(c, "MediaNest", HomePage({ user, dashboard }));
  });

  app.get("/dashboard/now-playing", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = signedInUser(c);
    const result = await getNowPlaying(deps);
    const section = NowPlayingSection({
      state: nowPlayingState(deps, user, result, result !== undefined),
      isAdmin: user.role === "admin",
    });
    return renderPage(c, "Now playing", section);
  });

  app.get("/dashboard/recently-added", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = signedInUser(c);
    const result = await getRecentlyAdded(deps, user);
    return renderPage(
      c,
      "Recently added",
      RecentlyAddedSection({ state: recentlyAddedState(deps, user, result, result !== undefined) }),
    );
  });

  app.get("/dashboard/status", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = signedInUser(c);
    const status = await statusSummary(deps);
    const section = StatusSummarySection({
      overview: status.overview,
      error: status.error,
      isAdmin: user.role === "admin",
    });
    return renderPage(c, "Status summary", section);
  });

  return app;
}
