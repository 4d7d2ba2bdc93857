/**
 * One movie or show as its title page shows it: Seerr's details (cached briefly), each season's availability and
 * whether it can still be requested, the Plex link once Plex has it, and whether Seerr has a 4K server for it.
 */
import type {
  SeerrMediaInfo,
  SeerrMediaStatus,
  SeerrMovie,
  SeerrPublicSettings,
  SeerrRequestStatus,
  SeerrTv,
} from "../integrations/seerr/types";
import type { User } from "../store/users";
import { getIntegrations } from "./integrations";
import { plexWebUrlIfKnown } from "./plex-links";
import { can } from "./permissions";
import { cachedSeerr, configuredSeerr, type SeerrDeps, type SeerrResult } from "./seerr";

export type MediaType = "movie" | "tv";

/** How long a title's details stay cached; a request made from MediaNest drops them at once. */
export const TITLE_TTL_MS = 2 * 60_000;
/** How long Seerr's public settings (its 4K servers) stay cached. */
export const SETTINGS_TTL_MS = 10 * 60_000;
/** The largest TMDB id accepted (TMDB's ids are well below; this keeps a typo from reaching Seerr). */
export const MAX_TMDB_ID = 2 ** 31 - 1;

/** A movie or a show, told apart by `mediaType`. */
export type TitleDetails = ({ mediaType: "movie" } & SeerrMovie) | ({ mediaType: "tv" } & SeerrTv);

/** Read a TMDB id from a path segment: a whole number from 1 to MAX_TMDB_ID, else undefined. */
export function parseTmdbId(raw: string): number | undefined {
  if (!/^[1-9]\d{0,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= MAX_TMDB_ID ? n : undefined;
}

/** The cache key of a title's details. */
export function titleCacheKey(cacheId: string, type: MediaType, tmdbId: number): string {
  return `seerr:${cacheId}:title:${type}:${tmdbId}`;
}

/** What a title page has to show: the details, null when Seerr does not know the id, or why it could not be had. */
export type TitleAnswer = SeerrResult<TitleDetails | null> | { ok: false; unconfigured: true };

/** Return a title's details from Seerr, cached for TITLE_TTL_MS. */
export async function getTitle(deps: SeerrDeps, type: MediaType, tmdbId: number): Promise<TitleAnswer> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return { ok: false, unconfigured: true };
  return cachedSeerr(deps, titleCacheKey(seerr.cacheId, type, tmdbId), TITLE_TTL_MS, async () => {
    if (type === "movie") {
      const m = await seerr.client.getMovie(tmdbId);
      return m ? { mediaType: "movie" as const, ...m } : null;
    }
    const t = await seerr.client.getTv(tmdbId);
    return t ? { mediaType: "tv" as const, ...t } : null;
  });
}

/** Drop a title's cached details (after a request for it changed its state). */
export async function forgetTitle(deps: SeerrDeps, type: MediaType, tmdbId: number): Promise<void> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return;
  await deps.coordination.cache.delete(titleCacheKey(seerr.cacheId, type, tmdbId)).catch(() => {});
}

/** Return whether Seerr has 4K servers (cached); a Seerr that cannot say reads as having none. */
export async function seerrFourK(deps: SeerrDeps): Promise<SeerrPublicSettings> {
  const none = { movie4kEnabled: false, series4kEnabled: false, partialRequestsEnabled: false };
  const seerr = await configuredSeerr(deps);
  if (!seerr) return none;
  const answer = await cachedSeerr(deps, `seerr:${seerr.cacheId}:public-settings`, SETTINGS_TTL_MS, () =>
    seerr.client.getPublicSettings(),
  );
  return answer.ok ? answer.data : none;
}

/** One season of a show and whether it can still be asked for. */
export interface SeasonState {
  seasonNumber: number;
  name: string;
  episodeCount: number | null;
  airDate: string | null;
  /** Availability in Plex as Seerr knows it. */
  status: SeerrMediaStatus;
  /** The state of a live request that holds this season, if any. */
  requested: SeerrRequestStatus | null;
  /** False when it is already requested or (partly) in Plex: Seerr would not take it again. */
  requestable: boolean;
}

/**
 * List a show's seasons (specials left out, as Seerr leaves them out by default) with their state. A season is
 * taken, as Seerr itself decides, when a live request (not declined, not completed) holds it, or when Plex has
 * any of it; `is4k` looks at the 4K copy instead.
 */
export function seasonStates(tv: SeerrTv, is4k = false): SeasonState[] {
  const media: SeerrMediaInfo | null = tv.media;
  const live = (media?.requests ?? []).filter(
    (r) => r.is4k === is4k && r.status !== "declined" && r.status !== "completed",
  );
  return tv.seasons
    .filter((s) => s.seasonNumber > 0)
    .map((s) => {
      const known = media?.seasons.find((x) => x.seasonNumber === s.seasonNumber);
      const status = (is4k ? known?.status4k : known?.status) ?? "unknown";
      const holder = live.find((r) => r.seasons.includes(s.seasonNumber));
      return {
        seasonNumber: s.seasonNumber,
        name: s.name || `Season ${s.seasonNumber}`,
        episodeCount: s.episodeCount,
        airDate: s.airDate,
        status,
        requested: holder?.status ?? null,
        requestable: !holder && (status === "unknown" || status === "deleted"),
      };
    });
}

/** Return the "Watch in Plex" link for a title once Plex has (some of) it. */
export async function watchInPlexUrl(
  deps: Pick<SeerrDeps, "database" | "secretBox">,
  media: SeerrMediaInfo | null,
): Promise<string | null> {
  if (!media || (media.status !== "available" && media.status !== "partially_available")) return null;
  const { plex } = await getIntegrations(deps);
  return plexWebUrlIfKnown(plex?.machineIdentifier, media.ratingKey);
}

/** Whether one copy (standard or 4K) of a title can be asked for, and if not, why. */
export interface CopyChoice {
  state: "available" | "requested" | "open";
  /** Words for the state when it is not open ("In Plex", "Pending approval", …). */
  label: string;
}

function copyChoice(d: TitleDetails, is4k: boolean): CopyChoice {
  const media = d.media;
  if (d.mediaType === "tv") {
    const seasons = seasonStates(d, is4k);
    if (seasons.some((s) => s.requestable)) return { state: "open", label: "" };
    if (seasons.length > 0 && seasons.every((s) => s.status === "available"))
      return { state: "available", label: "In Plex" };
    return { state: "requested", label: "Every season is requested or in Plex" };
  }
  const status = (is4k ? media?.status4k : media?.status) ?? "unknown";
  if (status === "available" || status === "partially_available") return { state: "available", label: "In Plex" };
  const live = (media?.requests ?? []).find(
    (r) => r.is4k === is4k && r.status !== "declined" && r.status !== "completed",
  );
  if (live)
    return { state: "requested", label: live.status === "pending" ? "Requested, pending approval" : "Requested" };
  if (status === "pending" || status === "processing")
    return {
      state: "requested",
      label: status === "pending" ? "Requested, pending approval" : "Requested, on its way",
    };
  return { state: "open", label: "" };
}

/** What a person may ask for on a title's page: the standard copy, and the 4K one where they may and Seerr can. */
export interface RequestChoices {
  standard: CopyChoice;
  fourK: CopyChoice | null;
}

/** Decide a title page's request choices for someone allowed to request (and `fourK` when they may ask in 4K). */
export function requestChoices(d: TitleDetails, fourK: boolean): RequestChoices {
  return { standard: copyChoice(d, false), fourK: fourK ? copyChoice(d, true) : null };
}

/**
 * Decide what this person may ask for on a title: null when they may not request at all; 4K only with the
 * `request_4k` permission and a 4K server in Seerr for the title's kind.
 */
export async function titleRequestChoices(
  deps: SeerrDeps,
  user: Pick<User, "role" | "permissions">,
  d: TitleDetails,
): Promise<RequestChoices | null> {
  if (!can(user, "request")) return null;
  const fourKServer = await seerrFourK(deps);
  const fourK =
    can(user, "request_4k") && (d.mediaType === "movie" ? fourKServer.movie4kEnabled : fourKServer.series4kEnabled);
  return requestChoices(d, fourK);
}
