import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../app/deps";
import { QUALITIES } from "../integrations/ytdlp/client";
import type { PlexItem } from "../integrations/plex/types";
import type { SeerrMediaStatus } from "../integrations/seerr/types";
import { clientIp } from "../server/request";
import { type Badge, availabilityBadge, seasonBadge } from "../services/availability";
import { MAX_QUERY_LENGTH, type MediaCard, normalizeQuery, parsePage, searchTitles } from "../services/discover";
import { cancelDownload, createDownload, DownloadRefusal } from "../services/downloads";
import { imageProxyKey, signedPlexImageUrl, signedRemoteImageUrl, signedTmdbImageUrl } from "../services/image-proxy";
import { getIntegrations } from "../services/integrations";
import {
  browseLibrary,
  LIBRARY_PAGE_SIZE,
  libraryFailure,
  libraryItem,
  librarySections,
  type PlexViewer,
  plexViewer,
} from "../services/library";
import {
  cancelMediaRequest,
  createMediaRequest,
  DECLINE_REASON_MAX,
  decideMediaRequests,
  REQUEST_RATE,
  type Refusal,
  STATE_LABELS,
} from "../services/media-requests";
import { PERMISSIONS, can } from "../services/permissions";
import { plexWebUrl } from "../services/plex-links";
import { enforceRateLimit } from "../services/rate-limit";
import {
  getTitle,
  MAX_TMDB_ID,
  parseTmdbId,
  seasonStates,
  type TitleDetails,
  titleRequestChoices,
  watchInPlexUrl,
} from "../services/titles";
import { type DownloadSummary, findDownloadSummary, listDownloadSummaries } from "../store/downloads";
import {
  listMediaRequests,
  type MediaRequest,
  type MediaRequestState,
  type MediaRequestWithUser,
} from "../store/media-requests";
import { findUserById, type User } from "../store/users";
import { VERSION } from "../version";
import { type ApiOperation, apiRoutesOn, openApiDocument, valid } from "./api-spec";
import { webhookApi } from "./webhooks";

// --- shared pieces of the answers ---------------------------------------------------------------------------

const MEDIA_STATUSES = [
  "unknown",
  "pending",
  "processing",
  "partially_available",
  "available",
  "unavailable",
  "deleted",
] as const satisfies readonly SeerrMediaStatus[];
const REQUEST_STATES = Object.keys(STATE_LABELS) as [MediaRequestState, ...MediaRequestState[]];
const DOWNLOAD_STATUSES = [
  "queued",
  "awaiting_approval",
  "downloading",
  "processing",
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly DownloadSummary["download"]["status"][];

const mediaType = z.enum(["movie", "tv"]);
const mediaStatus = z.enum(MEDIA_STATUSES);
const isoTime = z.iso.datetime();
const imageUrl = z.string().nullable().describe("A MediaNest image proxy address (signed), relative to the server.");

const badgeSchema = z
  .object({
    kind: z.enum(["available", "partial", "processing", "pending", "approved", "declined", "failed", "unknown"]),
    label: z.string(),
  })
  .nullable()
  .describe("What the pages' badge says; null when there is nothing to say.");

function badge(b: Badge | null): z.output<typeof badgeSchema> {
  return b ? { kind: b.kind, label: b.label } : null;
}

const pageQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const page = parsePage(raw);
    if (page === undefined) {
      ctx.addIssue({ code: "custom", message: "use a whole number from 1 to 500." });
      return z.NEVER;
    }
    return page;
  })
  .describe("The page, from 1 to 500 (default 1).");

const idParam = z.object({ id: z.string().min(1).max(64) });

function me(c: Context<AppEnv>): User {
  return c.get("user")!;
}

function fail(c: Context<AppEnv>, status: number, error: string, fields?: Record<string, string>) {
  return c.json({ error, ...(fields ? { fields } : {}) }, status as 400);
}

const NO_SEERR = "No Seerr is connected, so there is nothing to search or request. Ask the admin.";

// --- me ------------------------------------------------------------------------------------------------------

const meSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(["admin", "user"]),
  permissions: z.array(z.enum(PERMISSIONS)),
  quotas: z.object({
    requestsPerDay: z.int().nullable(),
    requestsPerWeek: z.int().nullable(),
    downloadsPerHour: z.int().nullable(),
    downloadsPerDay: z.int().nullable(),
    storageCapBytes: z.int().nullable(),
  }),
});

// --- search and titles -----------------------------------------------------------------------------------------

const cardSchema = z.object({
  mediaType,
  tmdbId: z.int(),
  title: z.string(),
  year: z.int().nullable(),
  overview: z.string().nullable(),
  posterUrl: imageUrl,
  status: mediaStatus.describe("Availability as Seerr knows it."),
  status4k: mediaStatus,
  badge: badgeSchema,
});

function toCard(key: Buffer, card: MediaCard): z.output<typeof cardSchema> {
  return {
    mediaType: card.mediaType,
    tmdbId: card.tmdbId,
    title: card.title,
    year: card.year,
    overview: card.overview,
    posterUrl: signedTmdbImageUrl(key, card.posterPath, "w342"),
    status: card.status,
    status4k: card.status4k,
    badge: badge(availabilityBadge(card.status)),
  };
}

const searchQuery = z.object({
  q: z
    .string()
    .optional()
    .transform((v) => normalizeQuery(v ?? ""))
    .pipe(z.string().max(MAX_QUERY_LENGTH, `use at most ${MAX_QUERY_LENGTH} characters.`))
    .describe("What to search for; empty asks Seerr nothing."),
  page: pageQuery,
});

const searchSchema = z.object({
  query: z.string(),
  page: z.int(),
  totalPages: z.int(),
  totalResults: z.int(),
  results: z.array(cardSchema),
});

const copyChoiceSchema = z.object({
  state: z.enum(["available", "requested", "open"]),
  label: z.string(),
});

const titleParams = z.object({
  mediaType,
  tmdbId: z
    .string()
    .transform((raw, ctx) => {
      const id = parseTmdbId(raw);
      if (id === undefined) {
        ctx.addIssue({ code: "custom", message: "a TMDB id is a whole number, such as 27205." });
        return z.NEVER;
      }
      return id;
    })
    .describe("The TMDB id."),
});

const titleSchema = z.object({
  mediaType,
  tmdbId: z.int(),
  title: z.string(),
  year: z.int().nullable(),
  tagline: z.string().nullable(),
  overview: z.string().nullable(),
  runtimeMinutes: z.int().nullable(),
  genres: z.array(z.string()),
  cast: z.array(z.object({ name: z.string(), character: z.string().nullable() })),
  posterUrl: imageUrl,
  backdropUrl: imageUrl,
  status: mediaStatus,
  status4k: mediaStatus,
  badge: badgeSchema,
  watchUrl: z.string().nullable().describe("The title in Plex's web app, once Plex has (some of) it."),
  seasons: z
    .array(
      z.object({
        seasonNumber: z.int(),
        name: z.string(),
        episodeCount: z.int().nullable(),
        airDate: z.string().nullable(),
        status: mediaStatus,
        requested: z.enum(["pending", "approved", "declined", "failed", "completed", "unknown"]).nullable(),
        requestable: z.boolean(),
        badge: badgeSchema,
      }),
    )
    .nullable()
    .describe("A show's seasons (specials left out); null for a movie."),
  request: z
    .object({ standard: copyChoiceSchema, fourK: copyChoiceSchema.nullable() })
    .nullable()
    .describe("What this person may ask for; null without the request permission."),
});

async function toTitle(deps: AppDeps, user: User, d: TitleDetails): Promise<z.output<typeof titleSchema>> {
  const key = imageProxyKey(deps);
  const choices = await titleRequestChoices(deps, user, d);
  return {
    mediaType: d.mediaType,
    tmdbId: d.tmdbId,
    title: d.title,
    year: d.year,
    tagline: d.tagline,
    overview: d.overview,
    runtimeMinutes: d.runtimeMinutes,
    genres: d.genres,
    cast: d.cast,
    posterUrl: signedTmdbImageUrl(key, d.posterPath, "w500"),
    backdropUrl: signedTmdbImageUrl(key, d.backdropPath, "w1280"),
    status: d.media?.status ?? "unknown",
    status4k: d.media?.status4k ?? "unknown",
    badge: badge(availabilityBadge(d.media?.status ?? "unknown")),
    watchUrl: await watchInPlexUrl(deps, d.media),
    seasons:
      d.mediaType === "tv"
        ? seasonStates(d).map((s) => ({
            seasonNumber: s.seasonNumber,
            name: s.name,
            episodeCount: s.episodeCount,
            airDate: s.airDate,
            status: s.status,
            requested: s.requested,
            requestable: s.requestable,
            badge: badge(seasonBadge(s)),
          }))
        : null,
    request: choices ? { standard: choices.standard, fourK: choices.fourK } : null,
  };
}

// --- requests --------------------------------------------------------------------------------------------------

const requestSchema = z.object({
  id: z.string(),
  mediaType,
  tmdbId: z.int(),
  title: z.string(),
  year: z.int().nullable(),
  posterUrl: imageUrl,
  seasons: z.array(z.int()),
  is4k: z.boolean(),
  status: z.enum(REQUEST_STATES),
  statusLabel: z.string(),
  declineReason: z.string().nullable(),
  source: z.enum(["medianest", "seerr"]).describe("Where it was made: here, or in Seerr's own pages."),
  requester: z.object({ id: z.string(), displayName: z.string() }),
  createdAt: isoTime,
  updatedAt: isoTime,
});

/** A request row as listed, or a single one with its requester's name looked up. */
async function requestOf(deps: AppDeps, r: MediaRequest): Promise<z.output<typeof requestSchema>> {
  const requester = await findUserById(deps.database, r.userId);
  return toRequest(deps, { ...r, requesterName: requester?.displayName ?? "" });
}

function toRequest(deps: AppDeps, r: MediaRequestWithUser): z.output<typeof requestSchema> {
  return {
    id: r.id,
    mediaType: r.mediaType,
    tmdbId: r.tmdbId,
    title: r.title,
    year: r.year,
    posterUrl: signedTmdbImageUrl(imageProxyKey(deps), r.posterPath, "w342"),
    seasons: r.seasons,
    is4k: r.is4k,
    status: r.status,
    statusLabel: STATE_LABELS[r.status],
    declineReason: r.declineReason,
    source: r.source,
    requester: { id: r.userId, displayName: r.requesterName },
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const REQUESTS_PAGE = 50;

const requestListQuery = z.object({
  all: z.enum(["0", "1"]).optional().describe("Admins: 1 lists everyone's requests."),
  status: z.enum(REQUEST_STATES).optional(),
  user: z.string().min(1).max(64).optional().describe("Admins: one person's requests, by user id."),
  page: pageQuery,
});

const requestListSchema = z.object({
  page: z.int(),
  pageSize: z.int(),
  total: z.int(),
  requests: z.array(requestSchema),
});

const newRequestBody = z
  .object({
    mediaType,
    tmdbId: z.int().min(1).max(MAX_TMDB_ID),
    seasons: z
      .union([z.literal("all"), z.array(z.int().min(1).max(999)).min(1, "choose at least one season.")])
      .optional()
      .describe('A show\'s seasons: numbers, or "all" (every season not yet requested or in Plex).'),
    is4k: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.mediaType === "tv" && v.seasons === undefined)
      ctx.addIssue({ code: "custom", path: ["seasons"], message: "choose at least one season." });
    if (v.mediaType === "movie" && v.seasons !== undefined)
      ctx.addIssue({ code: "custom", path: ["seasons"], message: "a movie has no seasons." });
  });

const requestAnswer = z.object({ request: requestSchema });
const declineBody = z.object({
  reason: z
    .string()
    .trim()
    .max(DECLINE_REASON_MAX, `use at most ${DECLINE_REASON_MAX} characters.`)
    .optional()
    .describe("Shown to the requester."),
});

// A refusal of the requests service: its status, except "no Seerr connected" (400 on the page) is a 503 here.
function refused(c: Context<AppEnv>, r: Refusal) {
  return fail(c, r.status === 400 ? 503 : r.status, r.message, r.field ? { [r.field]: r.message } : undefined);
}

// --- library ---------------------------------------------------------------------------------------------------

const KEY = /^\d{1,12}$/;
const POSTER = { w: 370, h: 556 } as const;
const BACKDROP = { w: 1280, h: 720 } as const;

const sectionSchema = z.object({
  key: z.string(),
  type: z.string().describe("movie, show, artist, photo or other."),
  title: z.string(),
});

const itemCardSchema = z.object({
  ratingKey: z.string(),
  type: z.string(),
  title: z.string(),
  year: z.int().nullable(),
  index: z.int().nullable().describe("A season's or episode's number."),
  posterUrl: imageUrl,
  addedAt: isoTime.nullable(),
});

function toItemCard(deps: AppDeps, m: PlexItem): z.output<typeof itemCardSchema> {
  return {
    ratingKey: m.ratingKey,
    type: m.type,
    title: m.title,
    year: m.year,
    index: m.index,
    posterUrl: signedPlexImageUrl(imageProxyKey(deps), m.thumb, POSTER.w, POSTER.h),
    addedAt: m.addedAt ? m.addedAt.toISOString() : null,
  };
}

const sectionParams = z.object({ sectionKey: z.string().regex(KEY, "a section key is a number.") });
const browseQuery = z.object({
  page: z
    .string()
    .regex(/^\d{1,5}$/, "use a whole number from 1 to 99999.")
    .optional()
    .transform((v) => (v ? Number(v) : 1))
    .pipe(z.int().min(1, "use a whole number from 1 to 99999.")),
  sort: z.enum(["title", "added", "year"], { error: "use title, added or year." }).optional(),
  q: z.string().trim().max(100, "search for at most 100 characters.").optional().describe("Titles containing this."),
});
const browseSchema = z.object({
  section: sectionSchema,
  page: z.int(),
  pageSize: z.int(),
  pages: z.int(),
  total: z.int(),
  items: z.array(itemCardSchema),
});

const itemParams = z.object({
  sectionKey: z
    .string()
    .regex(/^(\d{1,12}|items)$/, "a section key is a number, or items.")
    .describe("The section the item must be in, or `items` for whichever of your sections holds it."),
  ratingKey: z.string().regex(KEY, "a rating key is a number."),
});
const itemSchema = itemCardSchema.extend({
  section: sectionSchema,
  summary: z.string().nullable(),
  genres: z.array(z.string()),
  durationMs: z.int().nullable(),
  backdropUrl: imageUrl,
  watchUrl: z.string().nullable(),
  parent: z.object({ ratingKey: z.string(), title: z.string() }).nullable(),
  children: z.array(itemCardSchema).describe("A show's seasons, a season's episodes, an artist's albums."),
});

/** Why there is no library for this person, as an API answer; undefined when there is one. */
function libraryBlocked(c: Context<AppEnv>, viewer: PlexViewer) {
  switch (viewer.kind) {
    case "ready":
      return undefined;
    case "unconfigured":
      return fail(c, 503, "No Plex server is connected, so there is no library yet. Ask the admin.");
    case "unlinked":
      return fail(c, 403, "Your account is not linked to Plex, so Plex shares no library with it. Sign in with Plex.");
    case "stale":
      return fail(
        c,
        403,
        "MediaNest has no Plex sign-in of yours for this server. Sign out and sign in with Plex again.",
      );
  }
}

// --- downloads -------------------------------------------------------------------------------------------------

const downloadSchema = z.object({
  id: z.string(),
  url: z.string(),
  kind: z.enum(["video", "playlist"]),
  title: z.string(),
  channel: z.string().nullable(),
  thumbnailUrl: imageUrl,
  quality: z.string(),
  sectionKey: z.string(),
  library: z.string().describe("The library's title."),
  status: z.enum(DOWNLOAD_STATUSES),
  error: z.string().nullable(),
  itemCount: z.int(),
  estimatedBytes: z.number().nullable(),
  progress: z
    .object({
      completed: z.int(),
      failed: z.int(),
      cancelled: z.int(),
      waiting: z.int().describe("Queued or awaiting approval."),
      running: z.int().describe("Downloading or processing."),
      bytes: z.number().describe("Bytes of finished files."),
    })
    .describe("Items by state. A running item's percent goes to the browser's live stream only."),
  owner: z.object({ id: z.string(), displayName: z.string() }),
  createdAt: isoTime,
  updatedAt: isoTime,
  finishedAt: isoTime.nullable(),
});

const downloadBody = z.object({
  url: z.string({ error: "paste a link." }).trim().min(1, "paste a link.").max(2000, "that link is too long."),
  quality: z.enum(QUALITIES, { error: "pick one of the qualities offered." }),
  sectionKey: z.string({ error: "pick a library." }).min(1, "pick a library.").describe("The library to save into."),
});
const downloadAnswer = z.object({ download: downloadSchema });

async function libraryTitles(deps: AppDeps): Promise<Map<string, string>> {
  const { libraries } = await getIntegrations(deps);
  return new Map(libraries.map((l) => [l.sectionKey, l.title]));
}

function toDownload(deps: AppDeps, s: DownloadSummary, titles: Map<string, string>): z.output<typeof downloadSchema> {
  const d = s.download;
  const n = s.counts;
  return {
    id: d.id,
    url: d.url,
    kind: d.kind,
    title: d.title,
    channel: d.channel,
    thumbnailUrl: signedRemoteImageUrl(imageProxyKey(deps), d.thumbnailUrl),
    quality: d.quality,
    sectionKey: d.sectionKey,
    library: titles.get(d.sectionKey) ?? "",
    status: d.status,
    error: d.error,
    itemCount: d.itemCount,
    estimatedBytes: d.estimatedBytes,
    progress: {
      completed: n.completed,
      failed: n.failed,
      cancelled: n.cancelled,
      waiting: n.queued + n.awaiting_approval,
      running: n.downloading + n.processing,
      bytes: s.bytes,
    },
    owner: { id: s.user.id, displayName: s.user.displayName },
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    finishedAt: d.finishedAt ? d.finishedAt.toISOString() : null,
  };
}

async function downloadData(deps: AppDeps, id: string): Promise<z.output<typeof downloadSchema> | undefined> {
  const summary = await findDownloadSummary(deps.database, id);
  return summary ? toDownload(deps, summary, await libraryTitles(deps)) : undefined;
}

function downloadRefused(c: Context<AppEnv>, err: DownloadRefusal) {
  return fail(c, err.status, err.message, err.field === "_form" ? undefined : { [err.field]: err.message });
}

// --- the table -------------------------------------------------------------------------------------------------

const ok = (description: string, schema: z.ZodType) => ({ 200: { description, schema } });

/** The JSON API under /api/v1: personal API tokens act as their user here; the OpenAPI document describes it. */
export function apiRoutes() {
  const api = apiRoutesOn(new Hono<AppEnv>());
  const add = api.add;

  const meOp: ApiOperation = {
    method: "get",
    path: "/api/v1/me",
    operationId: "getMe",
    summary: "Who the token acts as: the account, its permissions and quotas.",
    tag: "account",
    access: "user",
    ok: ok("The account.", meSchema),
    errors: [],
  };
  add(meOp, (c) => {
    const u = me(c);
    return c.json({
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      role: u.role,
      permissions: PERMISSIONS.filter((p) => can(u, p)),
      quotas: {
        requestsPerDay: u.requestsPerDay,
        requestsPerWeek: u.requestsPerWeek,
        downloadsPerHour: u.downloadsPerHour,
        downloadsPerDay: u.downloadsPerDay,
        storageCapBytes: u.storageCapBytes,
      },
    } satisfies z.output<typeof meSchema>);
  });

  add(
    {
      method: "get",
      path: "/api/v1/search",
      operationId: "searchTitles",
      summary: "Search movies and shows in Seerr, with their availability.",
      tag: "titles",
      access: "user",
      query: searchQuery,
      ok: ok("One page of results.", searchSchema),
      errors: [502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const { q, page } = valid(c, "query", searchQuery);
      if (q === "") return c.json({ query: q, page: 1, totalPages: 0, totalResults: 0, results: [] });
      const answer = await searchTitles(deps, q, page);
      if (!answer.ok) return "unconfigured" in answer ? fail(c, 503, NO_SEERR) : fail(c, 502, answer.error);
      const key = imageProxyKey(deps);
      return c.json({
        query: q,
        page: answer.data.page,
        totalPages: answer.data.totalPages,
        totalResults: answer.data.totalResults,
        results: answer.data.cards.map((card) => toCard(key, card)),
      } satisfies z.output<typeof searchSchema>);
    },
  );

  add(
    {
      method: "get",
      path: "/api/v1/title/:mediaType/:tmdbId",
      operationId: "getTitle",
      summary: "A movie's or show's details, each season's availability, and what this person may request.",
      tag: "titles",
      access: "user",
      params: titleParams,
      ok: ok("The title.", titleSchema),
      errors: [404, 502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const { mediaType: type, tmdbId } = valid(c, "param", titleParams);
      const answer = await getTitle(deps, type, tmdbId);
      if (!answer.ok) return "unconfigured" in answer ? fail(c, 503, NO_SEERR) : fail(c, 502, answer.error);
      if (!answer.data) return fail(c, 404, "Seerr knows no title with this TMDB id.");
      return c.json(await toTitle(deps, me(c), answer.data));
    },
  );

  add(
    {
      method: "get",
      path: "/api/v1/requests",
      operationId: "listRequests",
      summary: "Your requests, newest first; admins may list everyone's (all=1) or one person's (user).",
      tag: "requests",
      access: "user",
      query: requestListQuery,
      ok: ok("One page of requests.", requestListSchema),
      errors: [403],
    },
    async (c) => {
      const deps = c.get("deps");
      const user = me(c);
      const q = valid(c, "query", requestListQuery);
      const everyone = q.all === "1" || q.user !== undefined;
      if (everyone && user.role !== "admin") return fail(c, 403, "Only admins may list other people's requests.");
      const { items, total } = await listMediaRequests(deps.database, {
        ...(everyone ? (q.user ? { userId: q.user } : {}) : { userId: user.id }),
        ...(q.status ? { statuses: [q.status] } : {}),
        limit: REQUESTS_PAGE,
        offset: (q.page - 1) * REQUESTS_PAGE,
      });
      return c.json({
        page: q.page,
        pageSize: REQUESTS_PAGE,
        total,
        requests: items.map((r) => toRequest(deps, r)),
      } satisfies z.output<typeof requestListSchema>);
    },
  );

  add(
    {
      method: "post",
      path: "/api/v1/requests",
      operationId: "createRequest",
      summary:
        "Request a movie, or a show's seasons, as yourself (same permissions, quota and Seerr rules as the page).",
      tag: "requests",
      access: "user",
      body: newRequestBody,
      ok: { 201: { description: "Made; its state says whether it waits for approval.", schema: requestAnswer } },
      errors: [403, 404, 409, 422, 429, 502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const user = me(c);
      const body = valid(c, "json", newRequestBody);
      await enforceRateLimit(deps, REQUEST_RATE, [`request:user:${user.id}`, `request:ip:${clientIp(c)}`]);
      const outcome = await createMediaRequest(
        deps,
        user,
        {
          mediaType: body.mediaType,
          tmdbId: body.tmdbId,
          is4k: body.is4k === true,
          ...(body.mediaType === "tv" && body.seasons !== undefined ? { seasons: body.seasons } : {}),
        },
        { user, ip: clientIp(c) },
      );
      if (outcome.kind === "refused") return refused(c, outcome);
      return c.json({ request: toRequest(deps, { ...outcome.request, requesterName: user.displayName }) }, 201);
    },
  );

  add(
    {
      method: "delete",
      path: "/api/v1/requests/:id",
      operationId: "cancelRequest",
      summary: "Cancel your own request while it waits for approval (deleted in Seerr too).",
      tag: "requests",
      access: "user",
      params: idParam,
      ok: ok("Cancelled.", requestAnswer),
      errors: [404, 409, 502],
    },
    async (c) => {
      const user = me(c);
      const outcome = await cancelMediaRequest(c.get("deps"), user, valid(c, "param", idParam).id, {
        user,
        ip: clientIp(c),
      });
      if (outcome.kind === "refused") return refused(c, outcome);
      return c.json({ request: await requestOf(c.get("deps"), outcome.request) });
    },
  );

  const decide = (decision: "approve" | "decline") => async (c: Context<AppEnv>) => {
    const user = me(c);
    const reason = decision === "decline" ? (valid(c, "json", declineBody).reason ?? "") || null : null;
    const outcome = await decideMediaRequests(c.get("deps"), [valid(c, "param", idParam).id], decision, reason, {
      user,
      ip: clientIp(c),
    });
    const [changed] = outcome.changed;
    if (changed) return c.json({ request: await requestOf(c.get("deps"), changed) });
    const refusal = outcome.refused[0]!;
    return fail(c, refusal.status, `Not ${decision === "approve" ? "approved" : "declined"}: ${refusal.message}.`);
  };
  add(
    {
      method: "post",
      path: "/api/v1/requests/:id/approve",
      operationId: "approveRequest",
      summary: "Approve a pending request in Seerr (admins).",
      tag: "requests",
      access: "admin",
      params: idParam,
      ok: ok("Approved.", requestAnswer),
      errors: [404, 409, 502],
    },
    decide("approve"),
  );
  add(
    {
      method: "post",
      path: "/api/v1/requests/:id/decline",
      operationId: "declineRequest",
      summary: "Decline a pending request; the reason is shown to the requester (admins).",
      tag: "requests",
      access: "admin",
      params: idParam,
      body: declineBody,
      ok: ok("Declined.", requestAnswer),
      errors: [404, 409, 502],
    },
    decide("decline"),
  );

  add(
    {
      method: "get",
      path: "/api/v1/library",
      operationId: "listLibrarySections",
      summary: "The Plex library sections shared with you (read with your own Plex sign-in).",
      tag: "library",
      access: "user",
      ok: ok("Your sections.", z.object({ sections: z.array(sectionSchema) })),
      errors: [403, 502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const viewer = await plexViewer(deps, me(c));
      if (viewer.kind !== "ready") return libraryBlocked(c, viewer)!;
      try {
        return c.json({ sections: await librarySections(deps, viewer) });
      } catch (err) {
        return fail(c, 502, libraryFailure(err));
      }
    },
  );

  add(
    {
      method: "get",
      path: "/api/v1/library/:sectionKey",
      operationId: "browseLibrarySection",
      summary: "One page of a section's items (48 a page), sorted and searched by title.",
      tag: "library",
      access: "user",
      params: sectionParams,
      query: browseQuery,
      ok: ok("One page of the section.", browseSchema),
      errors: [403, 404, 502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const { sectionKey } = valid(c, "param", sectionParams);
      const q = valid(c, "query", browseQuery);
      const viewer = await plexViewer(deps, me(c));
      if (viewer.kind !== "ready") return libraryBlocked(c, viewer)!;
      let result: Awaited<ReturnType<typeof browseLibrary>>;
      try {
        result = await browseLibrary(deps, viewer, sectionKey, {
          page: q.page,
          sort: q.sort ?? "title",
          query: q.q ?? "",
        });
      } catch (err) {
        return fail(c, 502, libraryFailure(err));
      }
      if (!result) return fail(c, 404, "There is no such section in your library.");
      return c.json({
        section: result.section,
        page: q.page,
        pageSize: LIBRARY_PAGE_SIZE,
        pages: result.pages,
        total: result.total,
        items: result.items.map((m) => toItemCard(deps, m)),
      } satisfies z.output<typeof browseSchema>);
    },
  );

  // One route for /library/items/{ratingKey} and /library/{sectionKey}/{ratingKey}: a static "items" beside the
  // section's parameter would push the area off Hono's RegExpRouter (docs/architecture.md, speed rules).
  add(
    {
      method: "get",
      path: "/api/v1/library/:sectionKey/:ratingKey",
      operationId: "getLibraryItem",
      summary:
        "An item of your library with its seasons or episodes; `items` as the section takes it from any of yours.",
      tag: "library",
      access: "user",
      params: itemParams,
      ok: ok("The item.", itemSchema),
      errors: [403, 404, 502, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const { sectionKey, ratingKey } = valid(c, "param", itemParams);
      const viewer = await plexViewer(deps, me(c));
      if (viewer.kind !== "ready") return libraryBlocked(c, viewer)!;
      let found: Awaited<ReturnType<typeof libraryItem>>;
      try {
        found = await libraryItem(deps, viewer, sectionKey === "items" ? null : sectionKey, ratingKey);
      } catch (err) {
        return fail(c, 502, libraryFailure(err));
      }
      // Not found and not shared with this person read the same: nothing is said about other people's libraries.
      if (!found) return fail(c, 404, "There is no such item in your library.");
      const { section, item, children, parent } = found;
      return c.json({
        ...toItemCard(deps, item),
        section,
        summary: item.summary || parent?.summary || null,
        genres: item.genres,
        durationMs: item.durationMs,
        backdropUrl: signedPlexImageUrl(imageProxyKey(deps), item.art ?? parent?.art, BACKDROP.w, BACKDROP.h),
        watchUrl: viewer.machineIdentifier ? plexWebUrl(viewer.machineIdentifier, item.ratingKey) : null,
        parent: parent ? { ratingKey: parent.ratingKey, title: parent.title } : null,
        children: children.map((m) => toItemCard(deps, m)),
      } satisfies z.output<typeof itemSchema>);
    },
  );

  add(
    {
      method: "get",
      path: "/api/v1/downloads",
      operationId: "listDownloads",
      summary: "Your downloads, newest first (the last 50), with their items' progress.",
      tag: "downloads",
      access: "user",
      ok: ok("Your downloads.", z.object({ downloads: z.array(downloadSchema) })),
      errors: [],
    },
    async (c) => {
      const deps = c.get("deps");
      const [summaries, titles] = await Promise.all([
        listDownloadSummaries(deps.database, { userId: me(c).id, limit: 50 }),
        libraryTitles(deps),
      ]);
      return c.json({ downloads: summaries.map((s) => toDownload(deps, s, titles)) });
    },
  );

  add(
    {
      method: "post",
      path: "/api/v1/downloads",
      operationId: "createDownload",
      summary:
        "Download a video or playlist into a library (same link rules, quotas, disk checks and approval as the page).",
      tag: "downloads",
      access: "user",
      body: downloadBody,
      ok: { 201: { description: "Queued, or waiting for an admin's approval.", schema: downloadAnswer } },
      errors: [403, 409, 422, 429, 503],
    },
    async (c) => {
      const deps = c.get("deps");
      const user = me(c);
      try {
        const download = await createDownload(deps, user, { user, ip: clientIp(c) }, valid(c, "json", downloadBody));
        return c.json({ download: (await downloadData(deps, download.id))! }, 201);
      } catch (err) {
        if (err instanceof DownloadRefusal) return downloadRefused(c, err);
        throw err;
      }
    },
  );

  add(
    {
      method: "post",
      path: "/api/v1/downloads/:id/cancel",
      operationId: "cancelDownload",
      summary: "Cancel your download (admins: anyone's); running items stop and their partial files go.",
      tag: "downloads",
      access: "user",
      params: idParam,
      ok: ok("Cancelled.", downloadAnswer),
      errors: [404, 409],
    },
    async (c) => {
      const user = me(c);
      try {
        const deps = c.get("deps");
        const d = await cancelDownload(deps, user, { user, ip: clientIp(c) }, valid(c, "param", idParam).id);
        return c.json({ download: (await downloadData(deps, d.id))! });
      } catch (err) {
        if (err instanceof DownloadRefusal) return downloadRefused(c, err);
        throw err;
      }
    },
  );

  webhookApi(api);

  let document: Record<string, unknown> | undefined;
  add(
    {
      method: "get",
      path: "/api/v1/openapi.json",
      operationId: "getOpenApiDocument",
      summary: "This document.",
      tag: "meta",
      access: "public",
      ok: ok("The OpenAPI 3.1 document of this API.", z.record(z.string(), z.unknown())),
      errors: [],
    },
    (c) => c.json((document ??= openApiDocument(api.operations, { version: VERSION }))),
  );

  return api.app;
}
