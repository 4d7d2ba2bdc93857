/** Seerr / Overseerr / Jellyseerr remote shapes (zod, lenient) and the domain types the rest of MediaNest sees. */
import { z } from "zod";

// Remote shapes: only the fields we read are declared; unknown fields pass through. The three servers share this
// API but differ in details (enum values, nullable fields, spec typos), so almost everything is nullish and enum
// numbers stay plain numbers until they are mapped below.

/** Parse GET /status (public on the real server; there is no `status: "ok"` field). */
export const remoteStatusSchema = z.looseObject({
  version: z.string(),
  commitTag: z.string().nullish(),
  updateAvailable: z.boolean().nullish(),
  commitsBehind: z.number().nullish(),
  restartRequired: z.boolean().nullish(),
});

/** Parse a user; `plexId` and `email` are only sent to callers that may manage users (the API key can). */
export const remoteUserSchema = z.looseObject({
  id: z.number().int(),
  email: z.string().nullish(),
  username: z.string().nullish(),
  plexUsername: z.string().nullish(),
  jellyfinUsername: z.string().nullish(),
  displayName: z.string().nullish(),
  plexId: z.number().nullish(),
  permissions: z.number().nullish(),
  userType: z.number().nullish(),
  avatar: z.string().nullish(),
  requestCount: z.number().nullish(),
});
export type RemoteUser = z.infer<typeof remoteUserSchema>;

/** Parse the paging block of list answers; older servers leave out pageSize. */
export const remotePageInfoSchema = z.looseObject({
  page: z.number().nullish(),
  pages: z.number().nullish(),
  pageSize: z.number().nullish(),
  results: z.number().nullish(),
});

/** Parse GET /user. */
export const remoteUserPageSchema = z.looseObject({
  pageInfo: remotePageInfoSchema.nullish(),
  results: z.array(remoteUserSchema),
});

/** Parse one season's availability inside a media block. */
export const remoteSeasonStatusSchema = z.looseObject({
  seasonNumber: z.number(),
  status: z.number().nullish(),
  status4k: z.number().nullish(),
});

/** Parse a request as it appears inside a title's media block (no nested media). */
export const remoteMediaRequestSummarySchema = z.looseObject({
  id: z.number().int(),
  status: z.number(),
  is4k: z.boolean().nullish(),
  requestedBy: z.looseObject({ id: z.number().int() }).nullish(),
  seasons: z.array(z.looseObject({ seasonNumber: z.number(), status: z.number().nullish() })).nullish(),
});

/** Parse the availability block (`mediaInfo` on search results and details, `media` on requests). */
export const remoteMediaInfoSchema = z.looseObject({
  id: z.number().nullish(),
  tmdbId: z.number().nullish(),
  tvdbId: z.number().nullish(),
  mediaType: z.string().nullish(),
  status: z.number().nullish(),
  status4k: z.number().nullish(),
  ratingKey: z.string().nullish(),
  ratingKey4k: z.string().nullish(),
  seasons: z.array(remoteSeasonStatusSchema).nullish(),
  requests: z.array(remoteMediaRequestSummarySchema).nullish(),
});
export type RemoteMediaInfo = z.infer<typeof remoteMediaInfoSchema>;

/** Parse a request (GET /request results, POST /request answer). */
export const remoteRequestSchema = z.looseObject({
  id: z.number().int(),
  status: z.number(),
  type: z.string().nullish(),
  is4k: z.boolean().nullish(),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  media: remoteMediaInfoSchema.nullish(),
  requestedBy: remoteUserSchema.nullish(),
  seasons: z.array(z.looseObject({ seasonNumber: z.number(), status: z.number().nullish() })).nullish(),
});
export type RemoteRequest = z.infer<typeof remoteRequestSchema>;

/** Parse GET /request. */
export const remoteRequestPageSchema = z.looseObject({
  pageInfo: remotePageInfoSchema.nullish(),
  results: z.array(remoteRequestSchema),
});

/** Parse one search hit; movies carry `title`/`releaseDate`, shows `name`/`firstAirDate`, people `name`. */
export const remoteSearchResultSchema = z.looseObject({
  id: z.number(),
  mediaType: z.string().nullish(),
  title: z.string().nullish(),
  name: z.string().nullish(),
  releaseDate: z.string().nullish(),
  firstAirDate: z.string().nullish(),
  overview: z.string().nullish(),
  posterPath: z.string().nullish(),
  backdropPath: z.string().nullish(),
  mediaInfo: remoteMediaInfoSchema.nullish(),
});
export type RemoteSearchResult = z.infer<typeof remoteSearchResultSchema>;

/** Parse GET /search. */
export const remoteSearchPageSchema = z.looseObject({
  page: z.number(),
  totalPages: z.number().nullish(),
  totalResults: z.number().nullish(),
  results: z.array(remoteSearchResultSchema),
});

const remoteGenresSchema = z.array(z.looseObject({ name: z.string() })).nullish();
const remoteCreditsSchema = z
  .looseObject({
    cast: z
      .array(z.looseObject({ name: z.string(), character: z.string().nullish(), order: z.number().nullish() }))
      .nullish(),
  })
  .nullish();

/** Parse GET /movie/{tmdbId}. */
export const remoteMovieSchema = z.looseObject({
  id: z.number(),
  title: z.string(),
  releaseDate: z.string().nullish(),
  overview: z.string().nullish(),
  tagline: z.string().nullish(),
  posterPath: z.string().nullish(),
  backdropPath: z.string().nullish(),
  runtime: z.number().nullish(),
  genres: remoteGenresSchema,
  credits: remoteCreditsSchema,
  mediaInfo: remoteMediaInfoSchema.nullish(),
});
export type RemoteMovie = z.infer<typeof remoteMovieSchema>;

/** Parse GET /tv/{tmdbId}; the server sends `numberOfSeasons`, the spec says `numberOfSeason`: accept both. */
export const remoteTvSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  firstAirDate: z.string().nullish(),
  overview: z.string().nullish(),
  tagline: z.string().nullish(),
  posterPath: z.string().nullish(),
  backdropPath: z.string().nullish(),
  episodeRunTime: z.array(z.number()).nullish(),
  genres: remoteGenresSchema,
  credits: remoteCreditsSchema,
  numberOfSeasons: z.number().nullish(),
  numberOfSeason: z.number().nullish(),
  seasons: z
    .array(
      z.looseObject({
        seasonNumber: z.number(),
        episodeCount: z.number().nullish(),
        name: z.string().nullish(),
        airDate: z.string().nullish(),
      }),
    )
    .nullish(),
  mediaInfo: remoteMediaInfoSchema.nullish(),
});

/** Parse GET /settings/public: only what MediaNest reads (whether 4K servers are configured). */
export const remotePublicSettingsSchema = z.looseObject({
  movie4kEnabled: z.boolean().nullish(),
  series4kEnabled: z.boolean().nullish(),
  partialRequestsEnabled: z.boolean().nullish(),
});

/** Parse POST /user/import-from-plex: the users it created. */
export const remoteUserListSchema = z.array(remoteUserSchema);

/** Parse an error body: `{message}` from route errors, `{error}` from the auth middleware. */
export const remoteErrorSchema = z.looseObject({ message: z.string().nullish(), error: z.string().nullish() });

// Domain types.

/** What GET /status says about the server. */
export interface SeerrStatus {
  version: string;
  commitTag: string | null;
  updateAvailable: boolean;
  commitsBehind: number;
  restartRequired: boolean;
}

/** A Seerr user, enough to map a MediaNest user to it by Plex id. */
export interface SeerrUser {
  id: number;
  /** The Plex account id; null for local (and Jellyfin) users. */
  plexId: number | null;
  email: string | null;
  displayName: string;
  /** Seerr's permission bit mask. */
  permissions: number;
}

/** One page of a list. */
export interface SeerrPage<T> {
  page: number;
  pages: number;
  total: number;
  results: T[];
}

/**
 * Availability. 1–5 are the same everywhere; 6 is "deleted" on Overseerr but "blocklisted" on Jellyseerr and Seerr
 * (which use 7 for deleted), so 6 maps to "unavailable": either way it is not there and not requestable as usual.
 */
export type SeerrMediaStatus =
  | "unknown"
  | "pending"
  | "processing"
  | "partially_available"
  | "available"
  | "unavailable"
  | "deleted";

/** Request state; numbers a future server adds read as "unknown". */
export type SeerrRequestStatus = "pending" | "approved" | "declined" | "failed" | "completed" | "unknown";

export type SeerrMediaType = "movie" | "tv";

/** One season's availability. */
export interface SeerrSeasonStatus {
  seasonNumber: number;
  status: SeerrMediaStatus;
  status4k: SeerrMediaStatus;
}

/** A request as a title's media block lists it. */
export interface SeerrMediaRequestSummary {
  id: number;
  status: SeerrRequestStatus;
  is4k: boolean;
  requestedById: number | null;
  seasons: number[];
}

/** Availability of one title on the server (absent when nobody requested it and Plex does not have it). */
export interface SeerrMediaInfo {
  tmdbId: number | null;
  tvdbId: number | null;
  status: SeerrMediaStatus;
  status4k: SeerrMediaStatus;
  /** The Plex item's ratingKey once Plex has it (a string on the wire). */
  ratingKey: string | null;
  ratingKey4k: string | null;
  /** Per-season availability (shows only; empty otherwise). */
  seasons: SeerrSeasonStatus[];
  /** The title's requests (details answers only; empty on lists). */
  requests: SeerrMediaRequestSummary[];
}

/** One search hit. */
export interface SeerrSearchResult {
  /** "other" for people, collections and anything a newer server adds. */
  mediaType: SeerrMediaType | "person" | "collection" | "other";
  /** The TMDB id (for movie and tv). */
  id: number;
  title: string;
  year: number | null;
  overview: string | null;
  posterPath: string | null;
  backdropPath: string | null;
  media: SeerrMediaInfo | null;
}

/** The lists Seerr's discover page shows. */
export type SeerrDiscoverKind = "trending" | "movies" | "tv" | "upcoming-movies" | "upcoming-tv";

/** A page of search results. */
export interface SeerrSearchPage {
  page: number;
  totalPages: number;
  totalResults: number;
  results: SeerrSearchResult[];
}

/** A movie's details. */
export interface SeerrMovie {
  tmdbId: number;
  title: string;
  year: number | null;
  overview: string | null;
  tagline: string | null;
  posterPath: string | null;
  backdropPath: string | null;
  runtimeMinutes: number | null;
  genres: string[];
  /** The first few billed actors: name and character. */
  cast: { name: string; character: string | null }[];
  media: SeerrMediaInfo | null;
}

/** A show's details. */
export interface SeerrTv {
  tmdbId: number;
  title: string;
  year: number | null;
  overview: string | null;
  tagline: string | null;
  posterPath: string | null;
  backdropPath: string | null;
  /** A typical episode's length. */
  runtimeMinutes: number | null;
  genres: string[];
  cast: { name: string; character: string | null }[];
  numberOfSeasons: number;
  seasons: { seasonNumber: number; episodeCount: number | null; name: string | null; airDate: string | null }[];
  media: SeerrMediaInfo | null;
}

/** What Seerr's public settings say about requesting. */
export interface SeerrPublicSettings {
  movie4kEnabled: boolean;
  series4kEnabled: boolean;
  partialRequestsEnabled: boolean;
}

/** A media request. */
export interface SeerrRequest {
  id: number;
  status: SeerrRequestStatus;
  /** The status number Seerr sent (kept to tell apart numbers a newer server adds). */
  statusNumber: number;
  /** The media status number of the copy asked for (4K or not), when the request carries its media. */
  mediaStatusNumber: number | null;
  mediaType: SeerrMediaType | null;
  tmdbId: number | null;
  is4k: boolean;
  seasons: number[];
  requestedBy: { id: number; plexId: number | null; email: string | null; displayName: string } | null;
  createdAt: Date | null;
  media: SeerrMediaInfo | null;
}

/** What to request. */
export interface NewSeerrRequest {
  mediaType: SeerrMediaType;
  /** The TMDB id. */
  mediaId: number;
  /** For shows: season numbers, or "all". */
  seasons?: number[] | "all";
  is4k?: boolean;
}

/**
 * The outcome of a request: created, or one of the answers Seerr gives when it will not create one (409 already
 * requested, 403 no permission or quota, 202 no seasons left to request), with Seerr's own words.
 */
export type SeerrRequestOutcome =
  | { kind: "created"; request: SeerrRequest }
  | { kind: "already_requested"; message: string }
  | { kind: "not_allowed"; message: string }
  /** The acting user (X-Api-User) is not a Seerr user (any more): Seerr's auth check refused it. */
  | { kind: "unknown_user"; message: string }
  | { kind: "nothing_to_request"; message: string };

const MEDIA_STATUS: Record<number, SeerrMediaStatus> = {
  1: "unknown",
  2: "pending",
  3: "processing",
  4: "partially_available",
  5: "available",
  6: "unavailable",
  7: "deleted",
};

const REQUEST_STATUS: Record<number, SeerrRequestStatus> = {
  1: "pending",
  2: "approved",
  3: "declined",
  4: "failed",
  5: "completed",
};

/** Map a media status number; unknown numbers (and null) read as "unknown". */
export function mediaStatus(n: number | null | undefined): SeerrMediaStatus {
  return (n != null && MEDIA_STATUS[n]) || "unknown";
}

/** Map a request status number; unknown numbers read as "unknown". */
export function requestStatus(n: number | null | undefined): SeerrRequestStatus {
  return (n != null && REQUEST_STATUS[n]) || "unknown";
}
