/** A fake Seerr / Overseerr server answering the JSON shapes the real one sends (validated against seerr-api.yml). */
import {
  type Fault,
  FaultQueue,
  type RecordedRequest,
  recordRequest,
  answerWithPayloads,
  type PayloadMode,
} from "./http-fake";
import { findSpec, loadSpec, type OpenApiSpec, patchSchema, validateRequestBody, validateResponse } from "./openapi";

/**
 * Where the real server differs from its OpenAPI documents, in one place. Each entry is applied to a loaded spec by
 * loadSeerrSpec(), so validation holds the fake to what the real server sends, not to the document's mistakes.
 */
export const SPEC_DEVIATIONS = {
  /** Plex-imported users have no local user name: the real server sends `"username": null`; the documents say string. */
  nullUsername: { pointer: "/components/schemas/User/properties/username", schema: { type: ["string", "null"] } },
  /**
   * The real server names the season count `numberOfSeasons`; TvDetails says `numberOfSeason`. Additional properties
   * are allowed, so the real name validates; the client reads both (noted here, nothing to patch).
   */
  numberOfSeasons: null,
  /** POST /request answers 202 {message} when no season is left to request; the documents declare only 201. */
  noSeasonsLeft202: { method: "POST", path: "/request", status: 202 },
} as const;

const specCache = new Map<string, Promise<OpenApiSpec>>();

/** Load a Seerr OpenAPI document from ../shared/specs with SPEC_DEVIATIONS applied; undefined when it is absent. */
export function loadSeerrSpec(
  name: "seerr-api.yml" | "overseerr-api.yml" = "seerr-api.yml",
): Promise<OpenApiSpec> | undefined {
  const file = findSpec(name);
  if (!file) return undefined;
  let loading = specCache.get(file);
  if (!loading) {
    loading = loadSpec(file).then((spec) => {
      const { pointer, schema } = SPEC_DEVIATIONS.nullUsername;
      const before = patchSchema(spec, pointer, schema);
      // When a newer document fixes this, the deviation should go: say so rather than patch blindly.
      if (JSON.stringify(before) !== '{"type":"string"}')
        throw new Error(
          `fake seerr: ${name} now says ${JSON.stringify(before)} at ${pointer}; revisit SPEC_DEVIATIONS`,
        );
      return spec;
    });
    specCache.set(file, loading);
  }
  return loading;
}

/** Find the spec's path template for a concrete API path ("/request/12/approve" → "/request/{requestId}/{status}"). */
function pathTemplate(spec: OpenApiSpec, apiPath: string): string | undefined {
  const paths = Object.keys(spec.document.paths as Record<string, unknown>);
  if (paths.includes(apiPath)) return apiPath;
  const segments = apiPath.split("/");
  // Literal segments win over parameters, as in the real router ("/request/count" before "/request/{requestId}").
  let best: { template: string; literals: number } | undefined;
  for (const template of paths) {
    const parts = template.split("/");
    if (parts.length !== segments.length) continue;
    let literals = 0;
    const fits = parts.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return true;
      literals++;
      return part === segments[i];
    });
    if (fits && (!best || literals > best.literals)) best = { template, literals };
  }
  return best?.template;
}

/** A wire object as Seerr sends it; builders below fill the fields MediaNest and the spec care about. */
export type SeerrWire = Record<string, unknown>;

/** Seerr's permission bits (server/lib/permissions.ts), the ones the fake checks. */
export const SEERR_PERMISSIONS = {
  ADMIN: 2,
  MANAGE_USERS: 8,
  MANAGE_REQUESTS: 16,
  REQUEST: 32,
  AUTO_APPROVE: 128,
  AUTO_APPROVE_MOVIE: 256,
  AUTO_APPROVE_TV: 512,
  REQUEST_4K: 1024,
  REQUEST_4K_MOVIE: 2048,
  REQUEST_4K_TV: 4096,
  REQUEST_VIEW: 16384,
  REQUEST_MOVIE: 262144,
  REQUEST_TV: 524288,
} as const;

/** A request as the fake records it. */
export interface RecordedSeerrRequest extends RecordedRequest {
  /** The query string exactly as sent (without "?"), to check how it was encoded. */
  rawQuery: string;
}

export interface FakeSeerrOptions {
  apiKey: string;
  version?: string;
  commitTag?: string;
  updateAvailable?: boolean;
  commitsBehind?: number;
  /** Users as GET /user lists them; default: user 1, the admin who owns the API key. */
  users?: SeerrWire[];
  movies?: SeerrWire[];
  shows?: SeerrWire[];
  /** Plex accounts POST /user/import-from-plex can import (people the Plex server is shared with). */
  plexAccounts?: { plexId: number; username: string; email: string }[];
  /** Whether a 4K Radarr / Sonarr is configured (GET /settings/public). */
  fourK?: { movie: boolean; tv: boolean };
  /** Validate every answer and every request body against this document; drift is collected in specErrors. */
  spec?: OpenApiSpec;
  /** How long a "timeout" fault holds a request. */
  holdMs?: number;
  /** Rewrite every free-text field of the answers (titles, names, texts), e.g. with script payloads; off by default. */
  payload?: PayloadMode;
}

/** Seerr's notification types as the webhook agent names them. */
export type SeerrNotificationType =
  | "MEDIA_PENDING"
  | "MEDIA_APPROVED"
  | "MEDIA_AUTO_APPROVED"
  | "MEDIA_AVAILABLE"
  | "MEDIA_DECLINED"
  | "MEDIA_FAILED"
  | "TEST_NOTIFICATION";

export interface FakeSeerr {
  url: string;
  apiKey: string;
  requests: RecordedSeerrRequest[];
  /** Media requests created so far, as GET /request would list them. */
  mediaRequests(): SeerrWire[];
  setStatus(patch: {
    version?: string;
    commitTag?: string;
    updateAvailable?: boolean;
    commitsBehind?: number;
    restartRequired?: boolean;
  }): void;
  addUser(user: SeerrWire): void;
  addMovie(movie: SeerrWire): void;
  addShow(show: SeerrWire): void;
  /**
   * Set a title's availability (media status numbers: 1 unknown … 5 available; others to test unknown values);
   * `seasons` sets single seasons' status (season number → status).
   */
  setAvailability(
    mediaType: "movie" | "tv",
    tmdbId: number,
    status: number,
    status4k?: number,
    seasons?: Record<number, number>,
  ): void;
  /** Change a request's status as Seerr would on its own (4 failed, 5 completed), without any notification. */
  setRequestStatus(requestId: number, status: number): void;
  /** Remove a request as if someone deleted it in Seerr's own UI. */
  removeRequest(requestId: number): void;
  /** Add a request as if the user had made it in Seerr's own UI; returns its id. */
  addRequest(r: { type: "movie" | "tv"; tmdbId: number; userId: number; seasons?: number[]; status?: number }): number;
  /** Build the body Seerr's webhook agent sends with its default template (every value a string, absent blocks null). */
  webhookPayload(type: SeerrNotificationType, requestId?: number): Record<string, unknown>;
  /** POST a webhook like Seerr's agent: JSON, axios' user agent, Authorization exactly as configured. */
  sendWebhook(
    target: { url: string; authHeader?: string },
    type: SeerrNotificationType,
    requestId?: number,
  ): Promise<Response>;
  /** Answers or received bodies that did not match `spec` (empty while the fake and the document agree). */
  specErrors: string[];
  /** Answer the next request with a fault instead of the real route. */
  failNext(fault: Fault): void;
  /** Turn the payload mode on (a function) or off (undefined) for the answers from now on. */
  setPayloadMode(mode: PayloadMode | undefined): void;
  stop(): Promise<void>;
}

const EPOCH = Date.parse("2026-01-10T12:00:00.000Z");

function iso(offsetSeconds = 0): string {
  return new Date(EPOCH + offsetSeconds * 1000).toISOString();
}

/** Build a user as GET /user sends it to an API-key caller (plexId and email included). */
export function seerrUser(overrides: SeerrWire & { id: number }): SeerrWire {
  const name = typeof overrides.displayName === "string" ? overrides.displayName : `user${overrides.id}`;
  return {
    permissions: SEERR_PERMISSIONS.REQUEST,
    email: `${name.toLowerCase().replace(/[^a-z0-9]+/g, ".")}@example.com`,
    plexUsername: name,
    // Plex-imported users have no local user name; the real server sends null.
    username: null,
    recoveryLinkExpirationDate: null,
    userType: 1,
    plexId: 1000 + overrides.id,
    avatar: `https://plex.tv/users/${overrides.id}abc/avatar?c=1700000000`,
    movieQuotaLimit: null,
    movieQuotaDays: null,
    tvQuotaLimit: null,
    tvQuotaDays: null,
    createdAt: iso(-86_400 * 30),
    updatedAt: iso(-86_400),
    requestCount: 0,
    displayName: name,
    ...overrides,
  };
}

/** Build a movie as GET /movie/{id} sends it (mediaInfo is added by the fake when the title has media). */
export function seerrMovie(overrides: SeerrWire & { id: number; title: string }): SeerrWire {
  return {
    imdbId: `tt${String(overrides.id).padStart(7, "0")}`,
    adult: false,
    backdropPath: `/backdrop${overrides.id}.jpg`,
    posterPath: `/poster${overrides.id}.jpg`,
    budget: 160_000_000,
    genres: [{ id: 28, name: "Action" }],
    homepage: "",
    relatedVideos: [
      {
        url: "https://www.youtube.com/watch?v=YoHD9XEInc0",
        key: "YoHD9XEInc0",
        name: "Trailer",
        size: 1080,
        type: "Trailer",
        site: "YouTube",
      },
    ],
    originalLanguage: "en",
    originalTitle: overrides.title,
    overview: "A thief who steals corporate secrets through dream-sharing.",
    popularity: 83.9,
    productionCompanies: [{ id: 923, logoPath: "/legendary.png", originCountry: "US", name: "Legendary Pictures" }],
    productionCountries: [{ iso_3166_1: "US", name: "United States of America" }],
    releaseDate: "2010-07-15",
    releases: {
      results: [
        {
          iso_3166_1: "US",
          rating: null,
          release_dates: [
            { certification: "PG-13", iso_639_1: null, note: null, release_date: "2010-07-15T00:00:00.000Z", type: 3 },
          ],
        },
      ],
    },
    revenue: 836_800_000,
    runtime: 148,
    spokenLanguages: [{ englishName: "English", iso_639_1: "en", name: "English" }],
    status: "Released",
    tagline: "Your mind is the scene of the crime.",
    video: false,
    voteAverage: 8.4,
    voteCount: 35_000,
    credits: {
      cast: [
        {
          id: 6193,
          castId: 1,
          character: "Cobb",
          creditId: "52fe4534",
          gender: 2,
          name: "Leonardo DiCaprio",
          order: 0,
          profilePath: null,
        },
      ],
      crew: [],
    },
    externalIds: {
      facebookId: null,
      imdbId: `tt${String(overrides.id).padStart(7, "0")}`,
      instagramId: null,
      twitterId: null,
    },
    watchProviders: [],
    ...overrides,
  };
}

/** Build a show as GET /tv/{id} sends it; seasons 1..n plus specials (season 0). */
export function seerrShow(overrides: SeerrWire & { id: number; name: string; seasonCount?: number }): SeerrWire {
  const { seasonCount = 3, ...rest } = overrides;
  const seasons = Array.from({ length: seasonCount + 1 }, (_, n) => ({
    id: overrides.id * 100 + n,
    airDate: n === 0 ? null : `${2007 + n}-01-20`,
    episodeCount: n === 0 ? 2 : 10,
    name: n === 0 ? "Specials" : `Season ${n}`,
    overview: "",
    posterPath: `/season${n}.jpg`,
    seasonNumber: n,
  }));
  const episode = {
    id: 62_085,
    name: "Pilot",
    airDate: "2008-01-20",
    episodeNumber: 1,
    overview: "",
    productionCode: "",
    seasonNumber: 1,
    showId: overrides.id,
    stillPath: null,
    voteAverage: 8,
    voteCount: 100,
  };
  return {
    backdropPath: `/backdrop${overrides.id}.jpg`,
    posterPath: `/poster${overrides.id}.jpg`,
    contentRatings: { results: [{ iso_3166_1: "US", rating: "TV-MA" }] },
    createdBy: [{ id: 66_633, name: "Vince Gilligan", gender: 2, profilePath: null }],
    episodeRunTime: [45],
    firstAirDate: "2008-01-20",
    genres: [{ id: 18, name: "Drama" }],
    homepage: "",
    inProduction: false,
    languages: ["en"],
    lastAirDate: "2013-09-29",
    lastEpisodeToAir: episode,
    networks: [{ id: 174, logoPath: "/amc.png", originCountry: "US", name: "AMC" }],
    numberOfEpisodes: seasonCount * 10,
    // Real servers send numberOfSeasons; the spec's TvDetails names it numberOfSeason.
    numberOfSeasons: seasonCount,
    originCountry: ["US"],
    originalLanguage: "en",
    originalName: overrides.name,
    overview: "A chemistry teacher turns to crime.",
    popularity: 200.5,
    productionCompanies: [],
    productionCountries: [{ iso_3166_1: "US", name: "United States of America" }],
    spokenLanguages: [{ englishName: "English", iso_639_1: "en", name: "English" }],
    seasons,
    status: "Ended",
    tagline: "",
    type: "Scripted",
    voteAverage: 8.9,
    voteCount: 14_000,
    credits: { cast: [], crew: [] },
    externalIds: {
      facebookId: null,
      freebaseId: null,
      freebaseMid: null,
      imdbId: "tt0903747",
      instagramId: null,
      tvdbId: 81_189,
      tvrageId: null,
      twitterId: null,
    },
    keywords: [{ id: 1, name: "drug dealer" }],
    watchProviders: [],
    ...rest,
  };
}

interface StoredRequest {
  id: number;
  status: number;
  type: "movie" | "tv";
  tmdbId: number;
  is4k: boolean;
  seasons: number[];
  requestedBy: number;
  modifiedBy?: number;
  createdAt: string;
}

interface StoredMedia {
  id: number;
  mediaType: "movie" | "tv";
  tmdbId: number;
  tvdbId: number | null;
  status: number;
  status4k: number;
  /** Season number → status (shows). */
  seasons: Map<number, number>;
  createdAt: string;
}

/** The fake's "today": upcoming titles are those released after it. */
const TODAY = "2026-01-10";

const PAGE_SIZE = 20;

/** A person as TMDB's trending list carries one (MediaNest shows only movies and shows). */
const PERSON: SeerrWire = {
  id: 6193,
  mediaType: "person",
  name: "Leonardo DiCaprio",
  profilePath: "/profile6193.jpg",
  adult: false,
  popularity: 150,
  knownFor: [],
};

/** Start a fake Seerr on a random port; the API key acts as user 1 unless X-Api-User names another user. */
export function startFakeSeerr(opts: FakeSeerrOptions): FakeSeerr {
  let payloadMode: PayloadMode | undefined = opts.payload;
  const requests: RecordedSeerrRequest[] = [];
  const status = {
    version: opts.version ?? "2.7.3",
    commitTag: opts.commitTag ?? "v2.7.3",
    updateAvailable: opts.updateAvailable ?? false,
    commitsBehind: opts.commitsBehind ?? 0,
    restartRequired: false,
  };
  const users: SeerrWire[] = opts.users ?? [
    seerrUser({ id: 1, displayName: "owner", permissions: SEERR_PERMISSIONS.ADMIN }),
  ];
  const movies = new Map<number, SeerrWire>((opts.movies ?? []).map((m) => [Number(m.id), m]));
  const shows = new Map<number, SeerrWire>((opts.shows ?? []).map((s) => [Number(s.id), s]));
  const media = new Map<string, StoredMedia>();
  const stored: StoredRequest[] = [];
  let nextMediaId = 1;
  let nextRequestId = 1;
  const faults = new FaultQueue(
    (code) => Response.json({ message: `Fake Seerr fault ${code}` }, { status: code }),
    opts.holdMs,
  );

  const error = (code: number, message: string) => Response.json({ message }, { status: code });

  function findUser(id: number): SeerrWire | undefined {
    return users.find((u) => u.id === id);
  }

  function can(user: SeerrWire, ...perms: number[]): boolean {
    const mask = Number(user.permissions ?? 0);
    return (mask & SEERR_PERMISSIONS.ADMIN) !== 0 || perms.some((p) => (mask & p) !== 0);
  }

  function ensureMedia(type: "movie" | "tv", tmdbId: number): StoredMedia {
    const key = `${type}:${tmdbId}`;
    let m = media.get(key);
    if (!m) {
      const show = type === "tv" ? shows.get(tmdbId) : undefined;
      const tvdbId = (show?.externalIds as { tvdbId?: number } | undefined)?.tvdbId ?? null;
      m = {
        id: nextMediaId++,
        mediaType: type,
        tmdbId,
        tvdbId,
        status: 1,
        status4k: 1,
        seasons: new Map(),
        createdAt: iso(nextMediaId),
      };
      media.set(key, m);
    }
    return m;
  }

  function mediaWire(m: StoredMedia, withRequests = false): SeerrWire {
    const has = m.status === 4 || m.status === 5;
    const has4k = m.status4k === 4 || m.status4k === 5;
    return {
      downloadStatus: [],
      downloadStatus4k: [],
      id: m.id,
      mediaType: m.mediaType,
      tmdbId: m.tmdbId,
      tvdbId: m.tvdbId,
      imdbId: null,
      status: m.status,
      status4k: m.status4k,
      createdAt: m.createdAt,
      updatedAt: m.createdAt,
      lastSeasonChange: m.createdAt,
      mediaAddedAt: m.status === 5 ? m.createdAt : null,
      serviceId: null,
      serviceId4k: null,
      externalServiceId: null,
      externalServiceId4k: null,
      externalServiceSlug: null,
      externalServiceSlug4k: null,
      ratingKey: has ? String(50_000 + m.id) : null,
      ratingKey4k: has4k ? String(60_000 + m.id) : null,
      seasons: [...m.seasons].map(([seasonNumber, status], i) => ({
        id: m.id * 100 + i,
        seasonNumber,
        status,
        status4k: 1,
        createdAt: m.createdAt,
        updatedAt: m.createdAt,
      })),
      ...(withRequests
        ? {
            requests: stored
              .filter((r) => r.type === m.mediaType && r.tmdbId === m.tmdbId)
              .map((r) => {
                const { media: _media, ...rest } = requestWire(r);
                return rest;
              }),
          }
        : {}),
    };
  }

  function mediaInfoFor(type: "movie" | "tv", tmdbId: number, withRequests = false): SeerrWire | undefined {
    const m = media.get(`${type}:${tmdbId}`);
    return m ? mediaWire(m, withRequests) : undefined;
  }

  function requestWire(r: StoredRequest): SeerrWire {
    const m = ensureMedia(r.type, r.tmdbId);
    return {
      id: r.id,
      status: r.status,
      createdAt: r.createdAt,
      updatedAt: r.createdAt,
      type: r.type,
      is4k: r.is4k,
      serverId: 0,
      profileId: r.type === "movie" ? 4 : 6,
      rootFolder: r.type === "movie" ? "/movies" : "/tv",
      languageProfileId: null,
      tags: [],
      isAutoRequest: false,
      media: mediaWire(m),
      seasons: r.seasons.map((n, i) => ({
        id: r.id * 100 + i,
        seasonNumber: n,
        status: r.status,
        createdAt: r.createdAt,
        updatedAt: r.createdAt,
      })),
      modifiedBy: r.modifiedBy !== undefined ? (findUser(r.modifiedBy) ?? null) : null,
      requestedBy: findUser(r.requestedBy) ?? null,
      seasonCount: r.seasons.length,
    };
  }

  function page(list: SeerrWire[], req: RecordedRequest): Response {
    const take = Math.max(1, Math.min(100, Number(req.query.take ?? PAGE_SIZE) || PAGE_SIZE));
    const skip = Math.max(0, Number(req.query.skip ?? 0) || 0);
    return Response.json({
      pageInfo: {
        pages: Math.max(1, Math.ceil(list.length / take)),
        pageSize: take,
        results: list.length,
        page: Math.floor(skip / take) + 1,
      },
      results: list.slice(skip, skip + take),
    });
  }

  function searchWire(item: SeerrWire, type: "movie" | "tv"): SeerrWire {
    const common = {
      id: item.id,
      mediaType: type,
      adult: false,
      genreIds: ((item.genres as { id: number }[] | undefined) ?? []).map((g) => g.id),
      originalLanguage: item.originalLanguage,
      overview: item.overview,
      popularity: item.popularity,
      voteAverage: item.voteAverage,
      voteCount: item.voteCount,
      backdropPath: item.backdropPath,
      posterPath: item.posterPath,
    };
    const info = mediaInfoFor(type, Number(item.id));
    const specific =
      type === "movie"
        ? { originalTitle: item.originalTitle, releaseDate: item.releaseDate, title: item.title, video: false }
        : {
            firstAirDate: item.firstAirDate,
            name: item.name,
            originCountry: item.originCountry,
            originalName: item.originalName,
          };
    return { ...common, ...specific, ...(info ? { mediaInfo: info } : {}) };
  }

  function createRequest(req: RecordedRequest, actor: SeerrWire): Response {
    const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const type = body.mediaType;
    const tmdbId = body.mediaId;
    if ((type !== "movie" && type !== "tv") || typeof tmdbId !== "number") {
      return error(400, "request.body should have required property 'mediaType' and 'mediaId'");
    }
    const is4k = body.is4k === true;
    const P = SEERR_PERMISSIONS;
    const allowed = is4k
      ? can(actor, P.REQUEST_4K, type === "movie" ? P.REQUEST_4K_MOVIE : P.REQUEST_4K_TV)
      : can(actor, P.REQUEST, type === "movie" ? P.REQUEST_MOVIE : P.REQUEST_TV);
    if (!allowed)
      return error(
        403,
        `You do not have permission to make ${is4k ? "4K " : ""}${type === "movie" ? "movie" : "series"} requests.`,
      );
    const limit = type === "movie" ? actor.movieQuotaLimit : actor.tvQuotaLimit;
    if (
      typeof limit === "number" &&
      stored.filter((r) => r.requestedBy === actor.id && r.type === type).length >= limit
    ) {
      return error(403, `${type === "movie" ? "Movie" : "Series"} Quota exceeded.`);
    }
    const title = type === "movie" ? movies.get(tmdbId) : shows.get(tmdbId);
    if (!title) return error(404, `Unable to retrieve ${type === "movie" ? "movie" : "series"}.`);
    // Declined and completed requests do not hold a title or its seasons, as on the real server.
    const active = stored.filter(
      (r) => r.type === type && r.tmdbId === tmdbId && r.is4k === is4k && r.status !== 3 && r.status !== 5,
    );
    let seasons: number[] = [];
    if (type === "movie") {
      if (active.length > 0) return error(409, "Request for this media already exists.");
    } else {
      const all = ((title.seasons as { seasonNumber: number }[] | undefined) ?? [])
        .map((s) => s.seasonNumber)
        .filter((n) => n > 0);
      const wanted =
        body.seasons === "all" || body.seasons === undefined
          ? all
          : Array.isArray(body.seasons)
            ? body.seasons.filter((n): n is number => typeof n === "number")
            : [];
      const present = media.get(`tv:${tmdbId}`)?.seasons ?? new Map<number, number>();
      const taken = new Set([
        ...active.flatMap((r) => r.seasons),
        ...[...present].filter(([, st]) => !is4k && st !== 1 && st !== 7).map(([n]) => n),
      ]);
      seasons = wanted.filter((n) => all.includes(n) && !taken.has(n));
      if (seasons.length === 0) return error(202, "No seasons available to request");
    }
    const autoApprove = can(actor, P.AUTO_APPROVE, type === "movie" ? P.AUTO_APPROVE_MOVIE : P.AUTO_APPROVE_TV);
    const m = ensureMedia(type, tmdbId);
    const key = is4k ? "status4k" : "status";
    if (m[key] < 2 || m[key] > 5) m[key] = autoApprove ? 3 : 2;
    const created: StoredRequest = {
      id: nextRequestId++,
      status: autoApprove ? 2 : 1,
      type,
      tmdbId,
      is4k,
      seasons,
      requestedBy: Number(actor.id),
      createdAt: iso(60 * nextRequestId),
    };
    stored.push(created);
    actor.requestCount = Number(actor.requestCount ?? 0) + 1;
    return Response.json(requestWire(created), { status: 201 });
  }

  function listRequests(req: RecordedRequest, actor: SeerrWire): Response {
    const P = SEERR_PERMISSIONS;
    const seesAll = can(actor, P.MANAGE_REQUESTS, P.REQUEST_VIEW);
    const filter = req.query.filter ?? "all";
    const byStatus: Record<string, (r: StoredRequest) => boolean> = {
      all: () => true,
      pending: (r) => r.status === 1,
      approved: (r) => r.status === 2,
      processing: (r) => r.status === 2 && ensureMedia(r.type, r.tmdbId).status === 3,
      available: (r) => ensureMedia(r.type, r.tmdbId).status === 5,
      unavailable: (r) => r.status !== 3 && ensureMedia(r.type, r.tmdbId).status !== 5,
      failed: (r) => r.status === 4,
      completed: (r) => r.status === 5,
    };
    const keep = byStatus[filter];
    if (!keep) return error(400, `request.query.filter should be equal to one of the allowed values`);
    const requestedBy = req.query.requestedBy === undefined ? undefined : Number(req.query.requestedBy);
    const list = stored
      .filter((r) => (seesAll ? true : r.requestedBy === actor.id))
      .filter((r) => requestedBy === undefined || r.requestedBy === requestedBy)
      .filter(keep)
      .sort((a, b) => b.id - a.id)
      .map(requestWire);
    return page(list, req);
  }

  function findStored(id: string): StoredRequest | undefined {
    return stored.find((r) => r.id === Number(id));
  }

  /** Recompute a title's availability from its requests, as Seerr does after a request changes. */
  function settleMedia(type: "movie" | "tv", tmdbId: number, is4k: boolean) {
    const m = ensureMedia(type, tmdbId);
    const key = is4k ? "status4k" : "status";
    if (m[key] >= 4) return;
    const live = stored.filter((r) => r.type === type && r.tmdbId === tmdbId && r.is4k === is4k);
    if (live.some((r) => r.status === 2)) m[key] = 3;
    else if (live.some((r) => r.status === 1)) m[key] = 2;
    else m[key] = 1;
  }

  function changeRequest(req: RecordedRequest, actor: SeerrWire, id: string, action: string): Response {
    if (!can(actor, SEERR_PERMISSIONS.MANAGE_REQUESTS))
      return Response.json(
        { status: 403, error: "You do not have permission to access this endpoint" },
        { status: 403 },
      );
    const r = findStored(id);
    if (!r) return error(404, "Request not found.");
    if (action === "approve") r.status = 2;
    else if (action === "decline") r.status = 3;
    else if (action === "pending") r.status = 1;
    else return error(400, "request.params.status should be equal to one of the allowed values");
    r.modifiedBy = Number(actor.id);
    settleMedia(r.type, r.tmdbId, r.is4k);
    return Response.json(requestWire(r));
  }

  function deleteRequest(actor: SeerrWire, id: string): Response {
    const r = findStored(id);
    if (!r) return error(404, "Request not found.");
    // Seerr's own rule, condition for condition (server/routes/request.ts).
    if (!can(actor, SEERR_PERMISSIONS.MANAGE_REQUESTS) && r.requestedBy !== actor.id && r.status !== 1)
      return error(401, "You do not have permission to delete this request.");
    stored.splice(stored.indexOf(r), 1);
    settleMedia(r.type, r.tmdbId, r.is4k);
    return new Response(null, { status: 204 });
  }

  function importFromPlex(req: RecordedRequest, actor: SeerrWire): Response {
    if (!can(actor, SEERR_PERMISSIONS.MANAGE_USERS))
      return Response.json(
        { status: 403, error: "You do not have permission to access this endpoint" },
        { status: 403 },
      );
    const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as { plexIds?: unknown };
    const wanted = Array.isArray(body.plexIds) ? body.plexIds.map(String) : undefined;
    const created: SeerrWire[] = [];
    for (const account of opts.plexAccounts ?? []) {
      if (wanted && !wanted.includes(String(account.plexId))) continue;
      if (users.some((u) => u.plexId === account.plexId)) continue;
      const id = Math.max(0, ...users.map((u) => Number(u.id))) + 1;
      const user = seerrUser({ id, displayName: account.username, plexId: account.plexId, email: account.email });
      users.push(user);
      created.push(user);
    }
    return Response.json(created, { status: 201 });
  }

  function discover(kind: string, req: RecordedRequest): Response | undefined {
    const byPopularity = (a: SeerrWire, b: SeerrWire) => Number(b.popularity ?? 0) - Number(a.popularity ?? 0);
    const movieHits = () => [...movies.values()].sort(byPopularity).map((m) => searchWire(m, "movie"));
    const showHits = () => [...shows.values()].sort(byPopularity).map((t) => searchWire(t, "tv"));
    let hits: SeerrWire[];
    if (kind === "/discover/trending") {
      // TMDB's trending list mixes people in; clients must skip them.
      hits = [...movieHits(), ...showHits(), PERSON].sort((a, b) => byPopularity(a, b));
    } else if (kind === "/discover/movies") hits = movieHits();
    else if (kind === "/discover/tv") hits = showHits();
    else if (kind === "/discover/movies/upcoming")
      hits = movieHits().filter((m) => String(m.releaseDate ?? "") > TODAY);
    else if (kind === "/discover/tv/upcoming") hits = showHits().filter((t) => String(t.firstAirDate ?? "") > TODAY);
    else return undefined;
    const pageNo = Math.max(1, Number(req.query.page ?? 1) || 1);
    return Response.json({
      page: pageNo,
      totalPages: Math.max(1, Math.ceil(hits.length / PAGE_SIZE)),
      totalResults: hits.length,
      results: hits.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE),
    });
  }

  function webhookPayload(type: SeerrNotificationType, requestId?: number): Record<string, unknown> {
    const r = requestId === undefined ? undefined : stored.find((x) => x.id === requestId);
    if (type === "TEST_NOTIFICATION" || !r) {
      return {
        notification_type: type,
        event: "",
        subject: "Test Notification",
        message: "Check check, 1, 2, 3. Are we coming in clear?",
        image: "",
        media: null,
        request: null,
        issue: null,
        comment: null,
        extra: [],
      };
    }
    const m = ensureMedia(r.type, r.tmdbId);
    const title = r.type === "movie" ? movies.get(r.tmdbId) : shows.get(r.tmdbId);
    const name = String((r.type === "movie" ? title?.title : title?.name) ?? "");
    const date = String((r.type === "movie" ? title?.releaseDate : title?.firstAirDate) ?? "");
    const requester = findUser(r.requestedBy);
    const kind = r.type === "movie" ? "Movie" : "Series";
    const events: Record<SeerrNotificationType, string> = {
      MEDIA_PENDING: `New ${kind} Request`,
      MEDIA_APPROVED: `${kind} Request Approved`,
      MEDIA_AUTO_APPROVED: `${kind} Request Automatically Approved`,
      MEDIA_AVAILABLE: `${kind} Request Now Available`,
      MEDIA_DECLINED: `${kind} Request Declined`,
      MEDIA_FAILED: `${kind} Request Failed`,
      TEST_NOTIFICATION: "",
    };
    const statusName = (n: number) =>
      ["", "UNKNOWN", "PENDING", "PROCESSING", "PARTIALLY_AVAILABLE", "AVAILABLE", "BLOCKLISTED", "DELETED"][n] ?? "";
    const extra = r.type === "tv" ? [{ name: "Requested Seasons", value: r.seasons.join(", ") }] : ([] as unknown[]);
    return {
      notification_type: type,
      event: events[type],
      subject: `${name}${date ? ` (${date.slice(0, 4)})` : ""}`,
      message: String(title?.overview ?? ""),
      image: title?.posterPath ? `https://image.tmdb.org/t/p/w600_and_h900_bestv2${String(title.posterPath)}` : "",
      media: {
        media_type: r.type,
        tmdbId: String(r.tmdbId),
        tvdbId: m.tvdbId === null ? "" : String(m.tvdbId),
        status: statusName(m.status),
        status4k: statusName(m.status4k),
      },
      request: {
        request_id: String(r.id),
        requestedBy_email: String(requester?.email ?? ""),
        requestedBy_username: String(requester?.displayName ?? ""),
        requestedBy_avatar: String(requester?.avatar ?? ""),
        requestedBy_settings_discordId: "",
        requestedBy_settings_telegramChatId: "",
      },
      issue: null,
      comment: null,
      extra,
    };
  }

  function route(req: RecordedSeerrRequest): Response {
    const { method } = req;
    const path = req.path.replace(/\/+$/, "");
    if (!path.startsWith("/api/v1/")) return error(404, "Not Found");
    const api = path.slice("/api/v1".length);
    // Like the real server, /status answers without a key.
    if (method === "GET" && api === "/status") return Response.json(status);
    if (method === "GET" && api === "/settings/public")
      return Response.json({
        initialized: true,
        applicationTitle: "Seerr",
        applicationUrl: "",
        hideAvailable: false,
        localLogin: true,
        mediaServerLogin: true,
        movie4kEnabled: opts.fourK?.movie ?? false,
        series4kEnabled: opts.fourK?.tv ?? false,
        discoverRegion: "",
        streamingRegion: "",
        originalLanguage: "",
        mediaServerType: 1,
        partialRequestsEnabled: true,
        enableSpecialEpisodes: false,
        cacheImages: false,
        locale: "en",
        emailEnabled: false,
      });

    if (req.headers["x-api-key"] !== opts.apiKey) return error(401, "Unauthorized: a valid X-Api-Key is required.");
    const actingId = req.headers["x-api-user"] === undefined ? 1 : Number(req.headers["x-api-user"]);
    const actor = findUser(actingId);
    if (!actor)
      return Response.json(
        { status: 403, error: "You do not have permission to access this endpoint" },
        { status: 403 },
      );

    if (method === "GET" && api === "/user") {
      if (!can(actor, SEERR_PERMISSIONS.MANAGE_USERS))
        return Response.json(
          { status: 403, error: "You do not have permission to access this endpoint" },
          { status: 403 },
        );
      return page(users, req);
    }
    if (method === "GET" && api === "/search") {
      // Seerr validates the query against its OpenAPI document, which rejects "+" for a space.
      if (req.rawQuery.includes("+"))
        return error(400, "request.query.query should match the encoding the API expects (use %20, not +)");
      const q = req.query.query;
      if (!q) return error(400, "request.query should have required property 'query'");
      const needle = q.toLowerCase();
      const hits = [
        ...[...movies.values()]
          .filter((m) => String(m.title).toLowerCase().includes(needle))
          .map((m) => searchWire(m, "movie")),
        ...[...shows.values()]
          .filter((s) => String(s.name).toLowerCase().includes(needle))
          .map((s) => searchWire(s, "tv")),
      ];
      const pageNo = Math.max(1, Number(req.query.page ?? 1) || 1);
      return Response.json({
        page: pageNo,
        totalPages: Math.max(1, Math.ceil(hits.length / PAGE_SIZE)),
        totalResults: hits.length,
        results: hits.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE),
      });
    }
    const detail = /^\/(movie|tv)\/(\d+)$/.exec(api);
    if (method === "GET" && detail) {
      const type = detail[1] as "movie" | "tv";
      const id = Number(detail[2]);
      const item = type === "movie" ? movies.get(id) : shows.get(id);
      if (!item) return error(404, `Unable to retrieve ${type === "movie" ? "movie" : "series"}.`);
      const info = mediaInfoFor(type, id, true);
      return Response.json({ ...item, ...(info ? { mediaInfo: info } : {}) });
    }
    if (method === "GET" && api.startsWith("/discover/")) {
      const answer = discover(api, req);
      if (answer) return answer;
    }
    if (method === "GET" && api === "/request") return listRequests(req, actor);
    if (method === "POST" && api === "/request") return createRequest(req, actor);
    if (method === "POST" && api === "/user/import-from-plex") return importFromPlex(req, actor);
    const one = /^\/request\/(\d+)$/.exec(api);
    if (one && method === "GET") {
      const r = findStored(one[1]!);
      if (!r) return error(404, "Request not found.");
      if (!can(actor, SEERR_PERMISSIONS.MANAGE_REQUESTS, SEERR_PERMISSIONS.REQUEST_VIEW) && r.requestedBy !== actor.id)
        return error(403, "You do not have permission to view this request.");
      return Response.json(requestWire(r));
    }
    if (one && method === "DELETE") return deleteRequest(actor, one[1]!);
    const change = /^\/request\/(\d+)\/([a-z]+)$/.exec(api);
    if (change && method === "POST") return changeRequest(req, actor, change[1]!, change[2]!);
    return error(404, "Not Found");
  }

  const specErrors: string[] = [];

  /** Hold the answer (and a JSON body received) to the spec, when one was given. */
  async function checkAgainstSpec(req: RecordedRequest, res: Response): Promise<void> {
    const spec = opts.spec;
    if (!spec || !req.path.startsWith("/api/v1/")) return;
    const api = req.path.slice("/api/v1".length).replace(/\/+$/, "");
    const template = pathTemplate(spec, api);
    if (!template) return void specErrors.push(`${req.method} ${api}: no such path in ${spec.file}`);
    if (req.body !== undefined && req.method !== "GET")
      specErrors.push(...validateRequestBody(spec, req.method, template, req.body));
    // Error answers are not described by the documents; successful ones must match (except the listed deviation).
    if (res.status >= 300) return;
    const dev = SPEC_DEVIATIONS.noSeasonsLeft202;
    if (res.status === dev.status && req.method === dev.method && template === dev.path) return;
    const text = await res.clone().text();
    specErrors.push(
      ...validateResponse(spec, req.method, template, res.status, text === "" ? undefined : JSON.parse(text)),
    );
  }

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(raw) {
      const rawQuery = new URL(raw.url).search.replace(/^\?/, "");
      const req: RecordedSeerrRequest = { ...(await recordRequest(raw)), rawQuery };
      requests.push(req);
      const faulted = await faults.next();
      if (faulted) return faulted;
      const res = route(req);
      await checkAgainstSpec(req, res);
      return answerWithPayloads(res, payloadMode);
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    apiKey: opts.apiKey,
    requests,
    mediaRequests: () => stored.map(requestWire),
    setStatus(patch) {
      Object.assign(status, patch);
    },
    addUser(user) {
      users.push(user);
    },
    addMovie(movie) {
      movies.set(Number(movie.id), movie);
    },
    addShow(show) {
      shows.set(Number(show.id), show);
    },
    setAvailability(mediaType, tmdbId, s, s4k, seasons) {
      const m = ensureMedia(mediaType, tmdbId);
      m.status = s;
      if (s4k !== undefined) m.status4k = s4k;
      for (const [n, st] of Object.entries(seasons ?? {})) m.seasons.set(Number(n), st);
    },
    setRequestStatus(requestId, st) {
      const r = stored.find((x) => x.id === requestId);
      if (!r) throw new Error(`fake seerr: no request ${requestId}`);
      r.status = st;
    },
    removeRequest(requestId) {
      const i = stored.findIndex((x) => x.id === requestId);
      if (i < 0) throw new Error(`fake seerr: no request ${requestId}`);
      const [r] = stored.splice(i, 1);
      settleMedia(r!.type, r!.tmdbId, r!.is4k);
    },
    addRequest(r) {
      const created: StoredRequest = {
        id: nextRequestId++,
        status: r.status ?? 1,
        type: r.type,
        tmdbId: r.tmdbId,
        is4k: false,
        seasons: r.seasons ?? [],
        requestedBy: r.userId,
        createdAt: iso(60 * nextRequestId),
      };
      stored.push(created);
      settleMedia(r.type, r.tmdbId, false);
      return created.id;
    },
    webhookPayload,
    async sendWebhook(target, type, requestId) {
      return fetch(target.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "axios/1.7.9",
          ...(target.authHeader !== undefined ? { Authorization: target.authHeader } : {}),
        },
        body: JSON.stringify(webhookPayload(type, requestId)),
      });
    },
    specErrors,
    setPayloadMode(mode) {
      payloadMode = mode;
    },
    failNext(fault) {
      faults.push(fault);
    },
    async stop() {
      faults.releaseAll();
      await server.stop(true);
    },
  };
}
