/** Seerr / Overseerr / Jellyseerr client: one API for all three (status, users, search, details, requests). */
import { z } from "zod";
import { IntegrationError, type IntegrationObserver, requestEmpty, requestJson } from "../http";
import {
  mediaStatus,
  type NewSeerrRequest,
  type RemoteMediaInfo,
  type RemoteRequest,
  type RemoteSearchResult,
  type RemoteUser,
  remoteErrorSchema,
  remoteMovieSchema,
  remotePublicSettingsSchema,
  remoteUserListSchema,
  remoteRequestPageSchema,
  remoteRequestSchema,
  remoteSearchPageSchema,
  remoteStatusSchema,
  remoteTvSchema,
  type RemoteMovie,
  remoteUserPageSchema,
  requestStatus,
  type SeerrDiscoverKind,
  type SeerrMediaInfo,
  type SeerrMovie,
  type SeerrPublicSettings,
  type SeerrPage,
  type SeerrRequest,
  type SeerrRequestOutcome,
  type SeerrSearchPage,
  type SeerrSearchResult,
  type SeerrStatus,
  type SeerrTv,
  type SeerrUser,
} from "./types";

type RemoteCredits = RemoteMovie["credits"];

const SERVICE = "seerr";
const DISPLAY_NAME = "Seerr";

export interface SeerrClientOptions {
  /** e.g. http://192.168.1.10:5055 or https://requests.example.com; a trailing /api/v1 is accepted. */
  baseUrl: string;
  apiKey: string;
  /** Act as this Seerr user (X-Api-User) instead of the API key's owner (user 1, an admin). */
  userId?: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  observer?: IntegrationObserver;
}

export interface RequestListQuery {
  take?: number;
  skip?: number;
  filter?: "all" | "approved" | "available" | "pending" | "processing" | "unavailable" | "failed" | "completed";
  sort?: "added" | "modified";
  /** Only requests made by this Seerr user. */
  requestedBy?: number;
}

export interface SeerrClient {
  /** Read the server's version and update state (answers without a valid key on real servers). */
  getStatus(): Promise<SeerrStatus>;
  /** List users a page at a time, with their Plex ids (the API key may see them). */
  listUsers(page?: { take?: number; skip?: number }): Promise<SeerrPage<SeerrUser>>;
  /** Search movies, shows and people. */
  search(query: string, opts?: { page?: number }): Promise<SeerrSearchPage>;
  /** Read one page of a discover list (trending, popular movies or shows, upcoming movies or shows). */
  discover(kind: SeerrDiscoverKind, opts?: { page?: number }): Promise<SeerrSearchPage>;
  /** Read whether 4K servers are configured (public settings; no key needed on real servers). */
  getPublicSettings(): Promise<SeerrPublicSettings>;
  /** Read a movie by TMDB id; undefined when Seerr does not know it. */
  getMovie(tmdbId: number): Promise<SeerrMovie | undefined>;
  /** Read a show by TMDB id; undefined when Seerr does not know it. */
  getTv(tmdbId: number): Promise<SeerrTv | undefined>;
  /** List requests a page at a time (only the acting user's own unless they may see all). */
  listRequests(query?: RequestListQuery): Promise<SeerrPage<SeerrRequest>>;
  /** Read one request; undefined when Seerr no longer has it. */
  getRequest(id: number): Promise<SeerrRequest | undefined>;
  /** Ask Seerr for a movie or show; a refusal (duplicate, permission, quota, nothing left) is an outcome, not an error. */
  createRequest(request: NewSeerrRequest): Promise<SeerrRequestOutcome>;
  /** Approve or decline a request (needs MANAGE_REQUESTS); undefined when Seerr no longer has it. */
  setRequestStatus(id: number, status: "approve" | "decline"): Promise<SeerrRequest | undefined>;
  /** Delete a request (its requester may while it is pending); false when Seerr no longer has it. */
  deleteRequest(id: number): Promise<boolean>;
  /** Import Plex users into Seerr by Plex account id; returns the users it created (none when they existed). */
  importFromPlex(plexIds: number[]): Promise<SeerrUser[]>;
  /** Return a client that acts as another Seerr user (X-Api-User), so requests are attributed to them. */
  as(userId: number): SeerrClient;
}

type Query = Record<string, string | number | undefined>;

/** Create a client for one Seerr, Overseerr or Jellyseerr server. */
export function createSeerrClient(opts: SeerrClientOptions): SeerrClient {
  const root = opts.baseUrl.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  const apiBase = `${root}/api/v1`;

  function url(path: string, query?: Query): string {
    // Seerr rejects "+" for spaces in query strings (400): encode every key and value with encodeURIComponent.
    const qs = Object.entries(query ?? {})
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    return `${apiBase}${path}${qs ? `?${qs}` : ""}`;
  }

  function headers(): Record<string, string> {
    return {
      Accept: "application/json",
      "X-Api-Key": opts.apiKey,
      ...(opts.userId !== undefined ? { "X-Api-User": String(opts.userId) } : {}),
    };
  }

  async function call<T>(
    path: string,
    schema: z.ZodType<T>,
    init: { query?: Query; method?: string; body?: unknown } = {},
  ): Promise<T> {
    try {
      return await requestJson({
        service: SERVICE,
        displayName: DISPLAY_NAME,
        url: url(path, init.query),
        method: init.method ?? "GET",
        headers: headers(),
        ...(init.body !== undefined ? { body: init.body } : {}),
        schema,
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.observer ? { observer: opts.observer } : {}),
      });
    } catch (err) {
      throw clarify(err, opts.userId);
    }
  }

  async function callEmpty(path: string, method: string): Promise<void> {
    try {
      await requestEmpty({
        service: SERVICE,
        displayName: DISPLAY_NAME,
        url: url(path),
        method,
        headers: headers(),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.observer ? { observer: opts.observer } : {}),
      });
    } catch (err) {
      throw clarify(err, opts.userId);
    }
  }

  function toSearchPage(body: z.infer<typeof remoteSearchPageSchema>): SeerrSearchPage {
    return {
      page: body.page,
      totalPages: body.totalPages ?? 1,
      totalResults: body.totalResults ?? body.results.length,
      results: body.results.map(toSearchResult),
    };
  }

  async function orUndefinedOn404<T>(load: () => Promise<T>): Promise<T | undefined> {
    try {
      return await load();
    } catch (err) {
      if (err instanceof IntegrationError && err.status === 404) return undefined;
      throw err;
    }
  }

  return {
    async getStatus() {
      const s = await call("/status", remoteStatusSchema);
      return {
        version: s.version,
        commitTag: s.commitTag ?? null,
        updateAvailable: s.updateAvailable ?? false,
        commitsBehind: s.commitsBehind ?? 0,
        restartRequired: s.restartRequired ?? false,
      };
    },

    async listUsers(page) {
      const take = page?.take ?? 50;
      const body = await call("/user", remoteUserPageSchema, { query: { take, skip: page?.skip ?? 0 } });
      return toPage(body.pageInfo, body.results.map(toUser), take);
    },

    async search(query, searchOpts) {
      const body = await call("/search", remoteSearchPageSchema, { query: { query, page: searchOpts?.page ?? 1 } });
      return toSearchPage(body);
    },

    async discover(kind, discoverOpts) {
      const body = await call(DISCOVER_PATHS[kind], remoteSearchPageSchema, {
        query: { page: discoverOpts?.page ?? 1 },
      });
      return toSearchPage(body);
    },

    async getPublicSettings() {
      const s = await call("/settings/public", remotePublicSettingsSchema);
      return {
        movie4kEnabled: s.movie4kEnabled ?? false,
        series4kEnabled: s.series4kEnabled ?? false,
        partialRequestsEnabled: s.partialRequestsEnabled ?? false,
      };
    },

    getMovie(tmdbId) {
      return orUndefinedOn404(async () => {
        const m = await call(`/movie/${tmdbPath(tmdbId)}`, remoteMovieSchema);
        return {
          tmdbId: m.id,
          title: m.title,
          year: yearOf(m.releaseDate),
          overview: m.overview || null,
          tagline: m.tagline || null,
          posterPath: m.posterPath ?? null,
          backdropPath: m.backdropPath ?? null,
          runtimeMinutes: m.runtime || null,
          genres: (m.genres ?? []).map((g) => g.name),
          cast: toCast(m.credits),
          media: toMediaInfo(m.mediaInfo),
        };
      });
    },

    getTv(tmdbId) {
      return orUndefinedOn404(async () => {
        const t = await call(`/tv/${tmdbPath(tmdbId)}`, remoteTvSchema);
        const seasons = (t.seasons ?? []).map((s) => ({
          seasonNumber: s.seasonNumber,
          episodeCount: s.episodeCount ?? null,
          name: s.name ?? null,
          airDate: s.airDate ?? null,
        }));
        return {
          tmdbId: t.id,
          title: t.name,
          year: yearOf(t.firstAirDate),
          overview: t.overview || null,
          tagline: t.tagline || null,
          posterPath: t.posterPath ?? null,
          backdropPath: t.backdropPath ?? null,
          runtimeMinutes: t.episodeRunTime?.[0] || null,
          genres: (t.genres ?? []).map((g) => g.name),
          cast: toCast(t.credits),
          numberOfSeasons: t.numberOfSeasons ?? t.numberOfSeason ?? seasons.filter((s) => s.seasonNumber > 0).length,
          seasons,
          media: toMediaInfo(t.mediaInfo),
        };
      });
    },

    async listRequests(query = {}) {
      const take = query.take ?? 20;
      const body = await call("/request", remoteRequestPageSchema, {
        query: { take, skip: query.skip ?? 0, filter: query.filter, sort: query.sort, requestedBy: query.requestedBy },
      });
      return toPage(body.pageInfo, body.results.map(toRequest), take);
    },

    getRequest(id) {
      return orUndefinedOn404(async () => toRequest(await call(`/request/${positiveId(id)}`, remoteRequestSchema)));
    },

    async createRequest(request) {
      const body: Record<string, unknown> = { mediaType: request.mediaType, mediaId: request.mediaId };
      if (request.seasons !== undefined) body.seasons = request.seasons;
      if (request.is4k !== undefined) body.is4k = request.is4k;
      // 202 "no seasons left" answers {message} with a success status, so both shapes are accepted here.
      const created = remoteRequestSchema.or(z.looseObject({ message: z.string() }));
      try {
        const answer = await call("/request", created, { method: "POST", body });
        if ("id" in answer && typeof answer.id === "number")
          return { kind: "created", request: toRequest(answer as RemoteRequest) };
        return {
          kind: "nothing_to_request",
          message: errorMessage(answer as { message: string }, "There is nothing left to request."),
        };
      } catch (err) {
        if (!(err instanceof IntegrationError)) throw err;
        if (err.status === 409)
          return { kind: "already_requested", message: bodyMessage(err.body, "This was already requested.") };
        if (err.status === 403 && opts.userId !== undefined) {
          // Seerr's auth check answers {error}; the request's own permission and quota checks answer {message}.
          const body = parseErrorBody(err.body);
          if (body && !body.message && body.error) return { kind: "unknown_user", message: body.error.slice(0, 300) };
          return { kind: "not_allowed", message: bodyMessage(err.body, "This user may not make this request.") };
        }
        throw err;
      }
    },

    setRequestStatus(id, status) {
      return orUndefinedOn404(async () =>
        toRequest(await call(`/request/${positiveId(id)}/${status}`, remoteRequestSchema, { method: "POST" })),
      );
    },

    async deleteRequest(id) {
      try {
        await callEmpty(`/request/${positiveId(id)}`, "DELETE");
        return true;
      } catch (err) {
        if (err instanceof IntegrationError && err.status === 404) return false;
        throw err;
      }
    },

    async importFromPlex(plexIds) {
      const body = { plexIds: plexIds.map((id) => String(id)) };
      return (await call("/user/import-from-plex", remoteUserListSchema, { method: "POST", body })).map(toUser);
    },

    as(userId) {
      return createSeerrClient({ ...opts, userId });
    },
  };
}

const DISCOVER_PATHS: Record<SeerrDiscoverKind, string> = {
  trending: "/discover/trending",
  movies: "/discover/movies",
  tv: "/discover/tv",
  "upcoming-movies": "/discover/movies/upcoming",
  "upcoming-tv": "/discover/tv/upcoming",
};

function tmdbPath(id: number): string {
  if (!Number.isInteger(id) || id <= 0) throw new Error(`seerr: invalid TMDB id ${String(id)}`);
  return String(id);
}

function positiveId(id: number): string {
  if (!Number.isInteger(id) || id <= 0) throw new Error(`seerr: invalid request id ${String(id)}`);
  return String(id);
}

const CAST_LIMIT = 8;

function toCast(credits: RemoteCredits): { name: string; character: string | null }[] {
  return [...(credits?.cast ?? [])]
    .sort((a, b) => (a.order ?? 999) - (b.order ?? 999))
    .slice(0, CAST_LIMIT)
    .map((c) => ({ name: c.name, character: c.character || null }));
}

/**
 * Say which credential failed (the API key, or the permissions of the user the call acted as), and carry Seerr's
 * own words on a refusal: a 500 `{message}` such as "[TMDB] Failed to fetch movie details: …" is what to show.
 */
function clarify(err: unknown, userId: number | undefined): unknown {
  if (err instanceof IntegrationError && err.kind === "refused" && err.status !== 404) {
    const said = parseErrorBody(err.body);
    const words = said?.message || said?.error;
    if (!words) return err;
    return new IntegrationError({
      service: err.service,
      kind: err.kind,
      message: `${err.message}: ${words.slice(0, 300)}`,
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.body !== undefined ? { body: err.body } : {}),
      cause: err,
    });
  }
  if (!(err instanceof IntegrationError) || err.kind !== "unauthorized") return err;
  const status = err.status ?? 401;
  const message =
    status === 403 && userId !== undefined
      ? `${DISPLAY_NAME} refused: Seerr user ${userId} lacks the permission (status 403)`
      : `${DISPLAY_NAME} rejected the API key (status ${status})`;
  return new IntegrationError({
    service: err.service,
    kind: err.kind,
    message,
    status,
    ...(err.body !== undefined ? { body: err.body } : {}),
    cause: err,
  });
}

function parseErrorBody(body: string | undefined): { message?: string | null; error?: string | null } | undefined {
  if (!body) return undefined;
  try {
    const parsed = remoteErrorSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function bodyMessage(body: string | undefined, fallback: string): string {
  const parsed = parseErrorBody(body);
  return parsed ? errorMessage(parsed, fallback) : fallback;
}

function errorMessage(e: { message?: string | null; error?: string | null }, fallback: string): string {
  return (e.message || e.error || fallback).slice(0, 300);
}

function toPage<T>(
  info: { page?: number | null; pages?: number | null; results?: number | null } | null | undefined,
  results: T[],
  take: number,
): SeerrPage<T> {
  const total = info?.results ?? results.length;
  return {
    page: info?.page ?? 1,
    pages: info?.pages ?? Math.max(1, Math.ceil(total / Math.max(1, take))),
    total,
    results,
  };
}

function toUser(u: RemoteUser): SeerrUser {
  return {
    id: u.id,
    plexId: u.plexId ?? null,
    email: u.email || null,
    displayName: u.displayName || u.username || u.plexUsername || u.jellyfinUsername || u.email || `User ${u.id}`,
    permissions: u.permissions ?? 0,
  };
}

function toMediaInfo(m: RemoteMediaInfo | null | undefined): SeerrMediaInfo | null {
  if (!m) return null;
  return {
    tmdbId: m.tmdbId ?? null,
    tvdbId: m.tvdbId ?? null,
    status: mediaStatus(m.status),
    status4k: mediaStatus(m.status4k),
    ratingKey: m.ratingKey || null,
    ratingKey4k: m.ratingKey4k || null,
    seasons: (m.seasons ?? []).map((s) => ({
      seasonNumber: s.seasonNumber,
      status: mediaStatus(s.status),
      status4k: mediaStatus(s.status4k),
    })),
    requests: (m.requests ?? []).map((r) => ({
      id: r.id,
      status: requestStatus(r.status),
      is4k: r.is4k ?? false,
      requestedById: r.requestedBy?.id ?? null,
      seasons: (r.seasons ?? []).map((s) => s.seasonNumber),
    })),
  };
}

function yearOf(date: string | null | undefined): number | null {
  const m = /^(\d{4})/.exec(date ?? "");
  return m ? Number(m[1]) : null;
}

function toSearchResult(r: RemoteSearchResult): SeerrSearchResult {
  const type = r.mediaType;
  const mediaType = type === "movie" || type === "tv" || type === "person" || type === "collection" ? type : "other";
  return {
    mediaType,
    id: r.id,
    title: r.title ?? r.name ?? "",
    year: yearOf(r.releaseDate ?? r.firstAirDate),
    overview: r.overview || null,
    posterPath: r.posterPath ?? null,
    backdropPath: r.backdropPath ?? null,
    media: toMediaInfo(r.mediaInfo),
  };
}

function toRequest(r: RemoteRequest): SeerrRequest {
  const type = [r.type, r.media?.mediaType].find((t) => t === "movie" || t === "tv");
  const created = r.createdAt ? new Date(r.createdAt) : null;
  const is4k = r.is4k ?? false;
  return {
    id: r.id,
    status: requestStatus(r.status),
    statusNumber: r.status,
    mediaStatusNumber: (is4k ? r.media?.status4k : r.media?.status) ?? null,
    mediaType: type === "movie" || type === "tv" ? type : null,
    tmdbId: r.media?.tmdbId ?? null,
    is4k,
    seasons: (r.seasons ?? []).map((s) => s.seasonNumber),
    requestedBy: r.requestedBy
      ? {
          id: r.requestedBy.id,
          plexId: r.requestedBy.plexId ?? null,
          email: r.requestedBy.email || null,
          displayName: toUser(r.requestedBy).displayName,
        }
      : null,
    createdAt: created && !Number.isNaN(created.getTime()) ? created : null,
    media: toMediaInfo(r.media),
  };
}
