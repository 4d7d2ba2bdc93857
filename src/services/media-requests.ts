/**
 * Requests for movies and shows: made in MediaNest as the person (Seerr's X-Api-User), after MediaNest's own
 * permissions and quota; stored as rows that follow Seerr's state (webhook, sync job, the pages' own changes); the
 * requester and the admins told of each change that matters to them.
 */
import type { AppDeps } from "../app/deps";
import { IntegrationError } from "../integrations/http";
import type { SeerrMediaStatus, SeerrRequest } from "../integrations/seerr/types";
import {
  findMediaRequestById,
  findMediaRequestBySeerrId,
  findSeerrLink,
  findSeerrLinkBySeerrUser,
  countPendingMediaRequests,
  insertMediaRequest,
  listMediaRequestsByIds,
  listRequestTimesSince,
  type MediaRequest,
  type MediaRequestState,
  touchMediaRequest,
  updateMediaRequestIf,
  upsertSeerrLink,
} from "../store/media-requests";
import { findUserById, findUserByPlexId, listUsers, type User } from "../store/users";
import { type Actor, audit } from "./audit";
import { publishEvent, topics } from "./events";
import { notify } from "./notifications";
import { can } from "./permissions";
import { configuredSeerr, type ConfiguredSeerr, type SeerrDeps } from "./seerr";
import { dropStaleLink, SeerrAccountMissing, seerrAccountFor } from "./seerr-users";
import { forgetTitle, getTitle, type MediaType, seasonStates, seerrFourK, type TitleDetails } from "./titles";

type Deps = SeerrDeps & Partial<Pick<AppDeps, "jobs">>;

/** What a person asks for. */
export interface RequestInput {
  mediaType: MediaType;
  tmdbId: number;
  /** Shows: chosen season numbers, or "all" (every season not yet requested or in Plex). */
  seasons?: number[] | "all";
  is4k?: boolean;
}

/** Why a request was not made, with the words to show and the status to answer with. */
export interface Refusal {
  kind: "refused";
  status: 400 | 403 | 404 | 409 | 422 | 429 | 502;
  message: string;
  /** Where to look instead (the existing request, the title). */
  link?: { href: string; label: string };
  /** The form field the refusal is about, when it is one. */
  field?: string;
}

export type RequestOutcome = { kind: "created"; request: MediaRequest } | Refusal;

/** A state change of a request that stopped it being done: refusal words, or the changed row. */
export type ChangeOutcome = { kind: "changed"; request: MediaRequest } | Refusal;

const DAY_MS = 86_400_000;
const USER_LOCK_MS = 20_000;
/** Requests a person may send per 10 minutes, whatever their quota (a held-down button, a script). */
export const REQUEST_RATE = { limit: 20, windowMs: 10 * 60_000 };

function refuse(status: Refusal["status"], message: string, extra: Partial<Refusal> = {}): Refusal {
  return { kind: "refused", status, message, ...extra };
}

/** The words for a request state, as the pages show it. */
export const STATE_LABELS: Record<MediaRequestState, string> = {
  pending: "Pending approval",
  approved: "Approved",
  declined: "Declined",
  processing: "Processing",
  partially_available: "Partly available",
  available: "Available",
  failed: "Failed",
  deleted: "Removed in Seerr",
  cancelled: "Cancelled",
  unknown: "Unknown",
};

/**
 * Decide a request's state from Seerr's request and media states: its own verdict first (declined, failed,
 * pending), then, once approved, how far Plex has it. For a show asked season by season, "available" means every
 * season it asked for; an unknown number reads as unknown.
 */
export function deriveState(r: Pick<SeerrRequest, "status" | "is4k" | "seasons" | "media">): MediaRequestState {
  switch (r.status) {
    case "declined":
      return "declined";
    case "failed":
      return "failed";
    case "pending":
      return "pending";
    case "completed":
      return "available";
    case "unknown":
      return "unknown";
    case "approved":
      break;
  }
  const media = r.media;
  const overall: SeerrMediaStatus = (r.is4k ? media?.status4k : media?.status) ?? "unknown";
  if (r.seasons.length > 0 && media && media.seasons.length > 0) {
    const states = r.seasons.map((n) => {
      const s = media.seasons.find((x) => x.seasonNumber === n);
      return (r.is4k ? s?.status4k : s?.status) ?? "unknown";
    });
    if (states.every((s) => s === "available")) return "available";
    if (states.some((s) => s === "available" || s === "partially_available")) return "partially_available";
  }
  if (overall === "available")
    return r.seasons.length > 0 && media?.seasons.length ? "partially_available" : "available";
  if (overall === "partially_available") return "partially_available";
  if (overall === "processing") return "processing";
  return "approved";
}

/** The quotas a user is held to, from their own limits (null: none). */
function quotaRules(user: User): { limit: number; windowMs: number; label: string }[] {
  const rules: { limit: number; windowMs: number; label: string }[] = [];
  if (user.requestsPerDay != null) rules.push({ limit: user.requestsPerDay, windowMs: DAY_MS, label: "today" });
  if (user.requestsPerWeek != null)
    rules.push({ limit: user.requestsPerWeek, windowMs: 7 * DAY_MS, label: "this week" });
  return rules;
}

/**
 * Check a user's request quotas (per day and per week, rolling windows) against their stored requests, so every
 * replica counts the same rows; when several are used up, the refusal names the one that frees up last.
 */
export async function checkQuota(
  deps: Pick<SeerrDeps, "database">,
  user: User,
  now = new Date(),
): Promise<Refusal | undefined> {
  if (user.role === "admin") return undefined;
  const rules = quotaRules(user);
  if (rules.length === 0) return undefined;
  if (rules.some((r) => r.limit === 0))
    return refuse(429, "Your request quota is 0: ask the admin if you should be able to request.");
  // One query for the longest window; the shorter ones are its tail.
  const longest = Math.max(...rules.map((r) => r.windowMs));
  const all = await listRequestTimesSince(deps.database, user.id, new Date(now.getTime() - longest));
  let over: { rule: (typeof rules)[number]; frees: Date } | undefined;
  for (const rule of rules) {
    const since = now.getTime() - rule.windowMs;
    const times = all.filter((at) => at.getTime() >= since);
    if (times.length < rule.limit) continue;
    const frees = new Date(times[times.length - rule.limit]!.getTime() + rule.windowMs);
    if (!over || frees > over.frees) over = { rule, frees };
  }
  if (!over) return undefined;
  const { limit, label } = over.rule;
  return refuse(
    429,
    `You have used your ${limit} request${limit === 1 ? "" : "s"} ${label}. The next one frees up ${over.frees.toUTCString()}.`,
  );
}

function titleLabel(r: Pick<MediaRequest, "title" | "year">): string {
  return r.year ? `${r.title} (${r.year})` : r.title;
}

function seasonsLabel(r: Pick<MediaRequest, "mediaType" | "seasons">): string {
  if (r.mediaType !== "tv" || r.seasons.length === 0) return "";
  return r.seasons.length === 1 ? ` (season ${r.seasons[0]})` : ` (seasons ${r.seasons.join(", ")})`;
}

/** The title page of a request's title. */
export function titleHref(r: Pick<MediaRequest, "mediaType" | "tmdbId">): string {
  return `/title/${r.mediaType}/${r.tmdbId}`;
}

async function notifyAdminsOfPending(deps: Deps, r: MediaRequest, requester: User): Promise<void> {
  const { users: admins } = await listUsers(deps.database, { role: "admin", status: "active", limit: 200 });
  for (const a of admins) {
    if (a.id === requester.id) continue;
    await notify(deps, a.id, {
      kind: "admin.request_pending",
      title: `New request: ${titleLabel(r)}`,
      body: `${requester.displayName} asked for ${titleLabel(r)}${seasonsLabel(r)}. It waits for approval in Seerr.`,
      link: titleHref(r),
    });
  }
}

/** Tell the requester what a state change means for them (nothing for changes they made or need not hear of). */
async function notifyRequester(deps: Deps, r: MediaRequest, from: MediaRequestState): Promise<void> {
  const name = titleLabel(r);
  const link = titleHref(r);
  const to = r.status;
  let message: { kind: string; title: string; body: string } | undefined;
  if ((to === "approved" || to === "processing") && (from === "pending" || from === "unknown"))
    message = { kind: "request.approved", title: `Request approved: ${name}`, body: "Seerr is fetching it now." };
  else if (to === "declined")
    message = {
      kind: "request.declined",
      title: `Request declined: ${name}`,
      body: r.declineReason ? `Reason: ${r.declineReason}` : "An administrator declined it.",
    };
  else if (to === "available" && from !== "available")
    message = { kind: "request.available", title: `Ready to watch: ${name}`, body: "It is in Plex now." };
  else if (to === "partially_available" && from !== "available" && from !== "partially_available")
    message = { kind: "request.available", title: `Partly ready: ${name}`, body: "Some of it is in Plex now." };
  else if (to === "failed")
    message = {
      kind: "request.failed",
      title: `Request failed: ${name}`,
      body: "Seerr could not fetch it. An administrator can retry it in Seerr.",
    };
  else if (to === "deleted")
    message = { kind: "request.removed", title: `Request removed: ${name}`, body: "It was removed in Seerr." };
  if (message) await notify(deps, r.userId, { ...message, link });
}

/** Tell the requester's live pages that a request changed (their requests page refreshes). */
async function publishChange(deps: Deps, r: MediaRequest, pendingChanged: boolean): Promise<void> {
  await publishEvent(deps, topics.user(r.userId), { type: "request-changed", requestId: r.id });
  if (pendingChanged) await publishPendingCount(deps);
}

/** Tell the admins' pages how many requests now wait for approval (the navigation's count). */
export async function publishPendingCount(deps: Deps): Promise<void> {
  let pending: number;
  try {
    pending = await countPendingMediaRequests(deps.database);
  } catch (err) {
    deps.log.warn("requests: cannot count pending requests", { error: (err as Error).message });
    return;
  }
  await publishEvent(deps, topics.admins, { type: "requests-pending", pending });
}

/**
 * Move a stored request to a new state when it is still in `row.status` (compare and set), then tell who needs to
 * know. Returns the row as it is now; a repeat of a change already made changes and tells nothing.
 */
export async function transition(
  deps: Deps,
  row: MediaRequest,
  to: MediaRequestState,
  patch: Partial<
    Pick<MediaRequest, "seerrStatus" | "mediaStatus" | "declineReason" | "seasons" | "plexRatingKey">
  > = {},
  opts: { quiet?: boolean } = {},
): Promise<MediaRequest> {
  if (row.status === to) {
    if (Object.keys(patch).length > 0) await touchMediaRequest(deps.database, row.id, patch);
    return { ...row, ...patch };
  }
  const changed = await updateMediaRequestIf(deps.database, row.id, row.status, { ...patch, status: to });
  if (!changed) return (await findMediaRequestById(deps.database, row.id)) ?? row;
  await forgetTitle(deps, changed.mediaType, changed.tmdbId);
  if (!opts.quiet) await notifyRequester(deps, changed, row.status);
  await publishChange(deps, changed, row.status === "pending" || to === "pending");
  return changed;
}

function fromTitle(d: TitleDetails): { title: string; year: number | null; posterPath: string | null } {
  return { title: d.title, year: d.year, posterPath: d.posterPath };
}

/** Check a show's chosen seasons against what can still be requested; returns what to send or a refusal. */
function chooseSeasons(d: TitleDetails, input: RequestInput): number[] | "all" | Refusal {
  if (d.mediaType !== "tv") return [];
  const states = seasonStates(d, input.is4k === true);
  const open = states.filter((s) => s.requestable).map((s) => s.seasonNumber);
  if (open.length === 0)
    return refuse(409, "Every season is already requested or in Plex.", {
      link: { href: "/requests", label: "Your requests" },
    });
  if (input.seasons === undefined || input.seasons === "all") return "all";
  if (input.seasons.length === 0) return refuse(422, "Choose at least one season.", { field: "seasons" });
  const unknown = input.seasons.filter((n) => !states.some((s) => s.seasonNumber === n));
  if (unknown.length > 0) return refuse(422, `This show has no season ${unknown.join(", ")}.`, { field: "seasons" });
  const taken = input.seasons.filter((n) => !open.includes(n));
  if (taken.length > 0)
    return refuse(409, `Season ${taken.join(", ")} is already requested or in Plex.`, { field: "seasons" });
  return [...new Set(input.seasons)].sort((a, b) => a - b);
}

/** Store a request Seerr created (or that sync found), telling admins when it waits for approval. */
async function storeRemote(
  deps: Deps,
  seerr: ConfiguredSeerr,
  user: User,
  remote: SeerrRequest,
  title: { title: string; year: number | null; posterPath: string | null },
  source: "medianest" | "seerr",
): Promise<{ row: MediaRequest; inserted: boolean }> {
  const now = new Date();
  const id = crypto.randomUUID();
  const row = await insertMediaRequest(deps.database, {
    id,
    userId: user.id,
    seerrServer: seerr.cacheId,
    seerrRequestId: remote.id,
    mediaType: remote.mediaType ?? "movie",
    tmdbId: remote.tmdbId ?? 0,
    ...title,
    seasons: remote.seasons,
    is4k: remote.is4k,
    status: deriveState(remote),
    seerrStatus: remote.statusNumber,
    mediaStatus: remote.mediaStatusNumber,
    plexRatingKey: plexKeyOf(remote),
    declineReason: null,
    source,
    createdAt: source === "seerr" && remote.createdAt ? remote.createdAt : now,
    updatedAt: now,
  });
  const inserted = row.id === id;
  if (inserted) {
    if (row.status === "pending") await notifyAdminsOfPending(deps, row, user);
    await publishChange(deps, row, row.status === "pending");
  }
  return { row, inserted };
}

/**
 * Make a request as the user: MediaNest's permissions, 4K and quota first, then Seerr as that person. Seerr's
 * refusals (403 permission or quota, 409 already requested, 202 nothing left) come back as readable refusals.
 */
export async function createMediaRequest(
  deps: Deps,
  user: User,
  input: RequestInput,
  actor: Actor,
): Promise<RequestOutcome> {
  if (!can(user, "request")) return refuse(403, "You may not request movies and shows. Ask the admin for it.");
  const seerr = await configuredSeerr(deps);
  if (!seerr) return refuse(400, "No Seerr is connected, so nothing can be requested. Ask the admin.");
  const is4k = input.is4k === true;
  if (is4k) {
    if (!can(user, "request_4k"))
      return refuse(403, "You may not request in 4K. Ask the admin for it.", { field: "is4k" });
    const fourK = await seerrFourK(deps);
    if (!(input.mediaType === "movie" ? fourK.movie4kEnabled : fourK.series4kEnabled))
      return refuse(422, "Seerr has no 4K server for this, so 4K cannot be requested.", { field: "is4k" });
  }
  const details = await getTitle(deps, input.mediaType, input.tmdbId);
  if (!details.ok) return refuse(502, "unconfigured" in details ? "No Seerr is connected." : details.error);
  if (!details.data) return refuse(404, "Seerr knows no title with this TMDB id.");
  const title = details.data;
  const seasons = chooseSeasons(title, input);
  if (!Array.isArray(seasons) && seasons !== "all") return seasons;

  // One request per user at a time across replicas, so two quick clicks cannot both fit in the last quota slot.
  const lock = await deps.coordination.locks.tryAcquire(`requests:user:${user.id}`, USER_LOCK_MS);
  if (!lock) return refuse(429, "Your previous request is still being sent. Try again in a moment.");
  try {
    const over = await checkQuota(deps, user);
    if (over) return over;
    let account;
    try {
      account = await seerrAccountFor(deps, seerr.client, user);
    } catch (err) {
      if (err instanceof SeerrAccountMissing) return refuse(403, err.message);
      if (err instanceof IntegrationError) return refuse(502, err.message);
      throw err;
    }
    const body = {
      mediaType: input.mediaType,
      mediaId: input.tmdbId,
      ...(input.mediaType === "tv" ? { seasons } : {}),
      ...(is4k ? { is4k: true } : {}),
    };
    let outcome;
    try {
      outcome = await seerr.client.as(account.seerrUserId).createRequest(body);
      if (outcome.kind === "unknown_user" && (await dropStaleLink(deps, account))) {
        // The Seerr account went away (deleted in Seerr): find or import it again, once.
        account = await seerrAccountFor(deps, seerr.client, user);
        outcome = await seerr.client.as(account.seerrUserId).createRequest(body);
      }
    } catch (err) {
      if (err instanceof SeerrAccountMissing) return refuse(403, err.message);
      if (err instanceof IntegrationError) return refuse(502, `Seerr could not make the request: ${err.message}`);
      throw err;
    }
    await forgetTitle(deps, input.mediaType, input.tmdbId);
    switch (outcome.kind) {
      case "already_requested":
        return refuse(409, `Already requested: ${outcome.message}`, {
          link: { href: "/requests", label: "See your requests" },
        });
      case "not_allowed":
        return refuse(403, `Seerr refused: ${outcome.message}`);
      case "unknown_user":
        return refuse(
          403,
          `The Seerr account MediaNest links you to (user ${account.seerrUserId}) is gone. Ask the admin to link another.`,
        );
      case "nothing_to_request":
        return refuse(409, `Nothing left to request: ${outcome.message}`, {
          link: { href: titleHref({ mediaType: input.mediaType, tmdbId: input.tmdbId }), label: "See the title" },
        });
      case "created":
        break;
    }
    let { row } = await storeRemote(deps, seerr, user, outcome.request, fromTitle(title), "medianest");
    await audit(
      deps,
      actor,
      "request.create",
      { type: "request", id: row.id },
      {
        title: titleLabel(row),
        mediaType: row.mediaType,
        tmdbId: row.tmdbId,
        seasons: row.seasons,
        is4k: row.is4k,
        seerrRequestId: row.seerrRequestId,
      },
    );
    // MediaNest's auto-approve lets a person skip the queue even where Seerr's own permissions would hold them.
    if (row.status === "pending" && can(user, "auto_approve_requests")) {
      const approved = await seerr.client.setRequestStatus(row.seerrRequestId, "approve").catch((err: unknown) => {
        deps.log.warn("requests: auto-approve failed", { request: row.id, error: (err as Error).message });
        return undefined;
      });
      if (approved) row = await transition(deps, row, deriveState(approved), rawNumbers(approved), { quiet: true });
    }
    return { kind: "created", request: row };
  } finally {
    await lock.release();
  }
}

/** What a stored request keeps of Seerr's copy as it changes: the raw numbers, and the Plex item once there is one. */
function rawNumbers(r: SeerrRequest): Pick<MediaRequest, "seerrStatus" | "mediaStatus"> & { plexRatingKey?: string } {
  const key = plexKeyOf(r);
  return { seerrStatus: r.statusNumber, mediaStatus: r.mediaStatusNumber, ...(key ? { plexRatingKey: key } : {}) };
}

/** The Plex ratingKey of the copy a request asked for (4K or not), when Seerr reports one. */
function plexKeyOf(r: Pick<SeerrRequest, "is4k" | "media">): string | null {
  return (r.is4k ? r.media?.ratingKey4k : r.media?.ratingKey) ?? null;
}

/** Cancel one's own request while it waits for approval (deleted in Seerr as the requester). */
export async function cancelMediaRequest(deps: Deps, user: User, id: string, actor: Actor): Promise<ChangeOutcome> {
  const row = await findMediaRequestById(deps.database, id);
  if (!row || (row.userId !== user.id && user.role !== "admin")) return refuse(404, "There is no such request.");
  if (row.status !== "pending")
    return refuse(
      409,
      `Only a request pending approval can be cancelled; this one is ${STATE_LABELS[row.status].toLowerCase()}.`,
    );
  const seerr = await configuredSeerr(deps);
  if (!seerr || seerr.cacheId !== row.seerrServer)
    return refuse(409, "This request lives on a Seerr that is no longer connected.");
  const link = await findSeerrLink(deps.database, row.userId);
  try {
    await (link ? seerr.client.as(link.seerrUserId) : seerr.client).deleteRequest(row.seerrRequestId);
  } catch (err) {
    if (err instanceof IntegrationError) return refuse(502, `Seerr could not cancel it: ${err.message}`);
    throw err;
  }
  const changed = await transition(deps, row, "cancelled", {}, { quiet: true });
  await audit(deps, actor, "request.cancel", { type: "request", id: row.id }, { title: titleLabel(row) });
  return { kind: "changed", request: changed };
}

/** What an admin's decision did to each request it named. */
export interface DecisionOutcome {
  changed: MediaRequest[];
  /** Each refusal with the status an API answers it with: 404 unknown, 409 not pending, 502 Seerr failed. */
  refused: { id: string; title: string; message: string; status: 404 | 409 | 502 }[];
}

/** The longest reason a decline may carry (shown to the requester). */
export const DECLINE_REASON_MAX = 500;

/**
 * Approve or decline requests pending approval, in Seerr (its approve/decline endpoints, as the API key's owner)
 * and here; the requester is told, a decline with its reason (kept by MediaNest: Seerr's endpoint takes none).
 * Each request is decided on its own, so one Seerr refusal does not stop the others.
 */
export async function decideMediaRequests(
  deps: Deps,
  ids: string[],
  decision: "approve" | "decline",
  reason: string | null,
  actor: Actor,
): Promise<DecisionOutcome> {
  const out: DecisionOutcome = { changed: [], refused: [] };
  const unique = [...new Set(ids)];
  const found = await listMediaRequestsByIds(deps.database, unique);
  const seerr = found.length > 0 ? await configuredSeerr(deps) : undefined;
  // In the order they were named (the page's order), one at a time.
  for (const id of unique) {
    const row = found.find((r) => r.id === id);
    if (!row) {
      out.refused.push({ id, title: id, message: "no such request", status: 404 });
      continue;
    }
    const name = titleLabel(row);
    if (row.status !== "pending") {
      out.refused.push({
        id: row.id,
        title: name,
        message: `it is ${STATE_LABELS[row.status].toLowerCase()}, not pending`,
        status: 409,
      });
      continue;
    }
    if (!seerr || seerr.cacheId !== row.seerrServer) {
      out.refused.push({
        id: row.id,
        title: name,
        message: "it lives on a Seerr that is no longer connected",
        status: 409,
      });
      continue;
    }
    let answer: SeerrRequest | undefined;
    try {
      answer = await seerr.client.setRequestStatus(row.seerrRequestId, decision);
    } catch (err) {
      if (!(err instanceof IntegrationError)) throw err;
      out.refused.push({ id: row.id, title: name, message: err.message, status: 502 });
      continue;
    }
    if (!answer) {
      // Deleted in Seerr meanwhile: say so here too, and tell the requester.
      await transition(deps, row, "deleted");
      out.refused.push({ id: row.id, title: name, message: "Seerr no longer has it (removed there)", status: 409 });
      continue;
    }
    const to = decision === "decline" ? "declined" : deriveState(answer);
    const changed = await transition(deps, row, to, {
      ...rawNumbers(answer),
      ...(decision === "decline" ? { declineReason: reason } : {}),
    });
    await audit(
      deps,
      actor,
      decision === "approve" ? "request.approve" : "request.decline",
      { type: "request", id: row.id },
      { title: name, seerrRequestId: row.seerrRequestId, ...(reason && decision === "decline" ? { reason } : {}) },
    );
    out.changed.push(changed);
  }
  return out;
}

/** What following one of Seerr's requests did here. */
export type FollowOutcome =
  | { kind: "changed" | "unchanged"; request: MediaRequest }
  | { kind: "adopted"; request: MediaRequest }
  /** Made in Seerr by someone MediaNest cannot tie to one of its users (or a title it cannot read): not stored. */
  | { kind: "unlinked"; seerrUserId: number | null };

// States a request never leaves on its own: cancelled here, or removed in Seerr.
const FINAL: MediaRequestState[] = ["cancelled", "deleted"];

/** The MediaNest user behind a Seerr user: their link, else the same Plex account. */
async function requesterOf(deps: Deps, remote: SeerrRequest): Promise<User | undefined> {
  const by = remote.requestedBy;
  if (!by) return undefined;
  const link = await findSeerrLinkBySeerrUser(deps.database, by.id);
  if (link) return findUserById(deps.database, link.userId);
  if (by.plexId == null) return undefined;
  const user = await findUserByPlexId(deps.database, by.plexId);
  if (!user) return undefined;
  // Only a user without a link yet takes this one: a link set (by hand or found) is never overwritten here.
  if (!(await findSeerrLink(deps.database, user.id)))
    await upsertSeerrLink(deps.database, {
      userId: user.id,
      seerrUserId: by.id,
      seerrName: by.displayName,
      how: "plex",
      linkedAt: new Date(),
    });
  return user;
}

/**
 * Bring MediaNest in line with Seerr's copy of a request (webhook, sync job): a stored request takes the state
 * Seerr's says (compare and set, so a repeat changes and tells nothing); one made in Seerr's own UI by a
 * MediaNest user is stored (source "seerr").
 */
export async function followRemote(deps: Deps, seerr: ConfiguredSeerr, remote: SeerrRequest): Promise<FollowOutcome> {
  const row = await findMediaRequestBySeerrId(deps.database, seerr.cacheId, remote.id);
  if (row) {
    if (FINAL.includes(row.status)) return { kind: "unchanged", request: row };
    const to = deriveState(remote);
    const changed = await transition(deps, row, to, {
      ...rawNumbers(remote),
      ...(remote.seasons.length ? { seasons: remote.seasons } : {}),
    });
    return { kind: changed.status !== row.status ? "changed" : "unchanged", request: changed };
  }
  const user = await requesterOf(deps, remote);
  if (!user || !remote.mediaType || !remote.tmdbId)
    return { kind: "unlinked", seerrUserId: remote.requestedBy?.id ?? null };
  const details = await getTitle(deps, remote.mediaType, remote.tmdbId);
  const title =
    details.ok && details.data
      ? fromTitle(details.data)
      : { title: `${remote.mediaType === "movie" ? "Movie" : "Show"} ${remote.tmdbId}`, year: null, posterPath: null };
  const { row: stored, inserted } = await storeRemote(deps, seerr, user, remote, title, "seerr");
  return inserted ? { kind: "adopted", request: stored } : { kind: "unchanged", request: stored };
}

/** Mark a stored request removed in Seerr (it is gone there) and tell its requester; a final state stays. */
export async function markRemoved(deps: Deps, row: MediaRequest): Promise<MediaRequest> {
  if (FINAL.includes(row.status)) return row;
  return transition(deps, row, "deleted");
}
