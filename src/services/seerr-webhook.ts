/**
 * Seerr's webhook agent: what it posts to MediaNest, how its secret is kept and checked, and what each
 * notification changes. A delivery only says which request moved; the request's state is read back from Seerr
 * when Seerr answers, so deliveries arriving late or twice cannot move a request backwards.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { IntegrationError } from "../integrations/http";
import type { SeerrRequest } from "../integrations/seerr/types";
import { findSetting, upsertSetting } from "../store/settings";
import { findMediaRequestBySeerrId, listLiveRequestsForTitles, type MediaRequestState } from "../store/media-requests";
import { followRemote, markRemoved, transition } from "./media-requests";
import { configuredSeerr, type ConfiguredSeerr, type SeerrDeps } from "./seerr";

const SECRET_SETTING = "seerr.webhook_secret";
const LAST_SETTING = "seerr.webhook_last";

/** Where Seerr posts: this path under MediaNest's address. */
export const SEERR_WEBHOOK_PATH = "/api/v1/webhooks/seerr";

/**
 * The JSON payload template to paste into Seerr's webhook agent when its default was changed: the fields
 * MediaNest reads, in Seerr's template variables. A key written as a variable (`"{{media}}"`) is Seerr's way of
 * sending null when the block does not apply.
 */
export const SEERR_WEBHOOK_TEMPLATE = `{
  "notification_type": "{{notification_type}}",
  "event": "{{event}}",
  "subject": "{{subject}}",
  "message": "{{message}}",
  "image": "{{image}}",
  "{{media}}": {
    "media_type": "{{media_type}}",
    "tmdbId": "{{media_tmdbid}}",
    "tvdbId": "{{media_tvdbid}}",
    "status": "{{media_status}}",
    "status4k": "{{media_status4k}}"
  },
  "{{request}}": {
    "request_id": "{{request_id}}",
    "requestedBy_email": "{{requestedBy_email}}",
    "requestedBy_username": "{{requestedBy_username}}"
  },
  "{{extra}}": []
}`;

/** Return the webhook secret, making and storing one (encrypted) the first time it is needed. */
export async function webhookSecret(deps: Pick<SeerrDeps, "database" | "secretBox">): Promise<string> {
  const stored = await findSetting(deps.database, deps.secretBox, SECRET_SETTING);
  if (stored) return stored;
  const made = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  await upsertSetting(deps.database, deps.secretBox, SECRET_SETTING, made, true);
  // Two replicas making one at once: whichever write landed last is the one both now read.
  return (await findSetting(deps.database, deps.secretBox, SECRET_SETTING)) ?? made;
}

/** Return the stored webhook secret without making one; undefined before the first. */
export async function storedWebhookSecret(
  deps: Pick<SeerrDeps, "database" | "secretBox">,
): Promise<string | undefined> {
  return (await findSetting(deps.database, deps.secretBox, SECRET_SETTING)) ?? undefined;
}

/** Replace the webhook secret (Seerr's agent must then be given the new header). */
export async function rotateWebhookSecret(deps: Pick<SeerrDeps, "database" | "secretBox">): Promise<string> {
  const made = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  await upsertSetting(deps.database, deps.secretBox, SECRET_SETTING, made, true);
  return made;
}

/** The Authorization header value Seerr's agent is to send. */
export function webhookAuthHeader(secret: string): string {
  return `Bearer ${secret}`;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/**
 * Check a delivery's Authorization header against the secret, in constant time (both sides hashed first, so
 * neither the length nor the content leaks); the bare secret is accepted as well as "Bearer <secret>".
 */
export async function webhookAuthorized(
  deps: Pick<SeerrDeps, "database" | "secretBox">,
  header: string | undefined,
): Promise<boolean> {
  const secret = await findSetting(deps.database, deps.secretBox, SECRET_SETTING);
  if (!secret || !header) return false;
  const sent = digest(header.trim());
  const bearer = timingSafeEqual(sent, digest(webhookAuthHeader(secret)));
  const bare = timingSafeEqual(sent, digest(secret));
  return bearer || bare;
}

const text = z.string().max(4000);
const numeric = z.string().regex(/^\d{0,12}$/, "must be a number written as a string");

/** The body of Seerr's default template (every value a string, blocks null when they do not apply). */
export const webhookPayloadSchema = z.looseObject({
  notification_type: z.string().min(1).max(100),
  event: text.optional(),
  subject: text.optional(),
  media: z
    .looseObject({
      media_type: z.string().max(20),
      tmdbId: numeric,
      status: text.optional(),
      status4k: text.optional(),
    })
    .nullable()
    .optional(),
  request: z.looseObject({ request_id: numeric }).nullable().optional(),
});

export type SeerrWebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** What a delivery did. */
export type WebhookOutcome =
  | { kind: "test" }
  | { kind: "ignored"; reason: string }
  | { kind: "followed"; changed: number; adopted: number; removed: number };

// What a notification says about its request when Seerr cannot be asked for the request itself.
const SAID: Record<string, MediaRequestState> = {
  MEDIA_PENDING: "pending",
  MEDIA_APPROVED: "approved",
  MEDIA_AUTO_APPROVED: "approved",
  MEDIA_DECLINED: "declined",
  MEDIA_FAILED: "failed",
  MEDIA_AVAILABLE: "available",
};
// How far along a state is, so a late delivery read without Seerr never moves a request back.
const RANK: Partial<Record<MediaRequestState, number>> = {
  pending: 0,
  approved: 1,
  processing: 2,
  partially_available: 3,
  available: 4,
};

// Types already logged, per database (one deployment): a test suite's apps each log their own once.
const loggedTypes = new WeakMap<object, Set<string>>();

async function rememberDelivery(deps: SeerrDeps, type: string): Promise<void> {
  await upsertSetting(
    deps.database,
    deps.secretBox,
    LAST_SETTING,
    JSON.stringify({ type: type.slice(0, 100), at: Date.now() }),
  ).catch((err: unknown) => deps.log.warn("seerr webhook: cannot note the delivery", { error: String(err) }));
}

/** When Seerr last delivered, and what (for the settings page). */
export async function lastWebhookDelivery(
  deps: Pick<SeerrDeps, "database" | "secretBox">,
): Promise<{ type: string; at: Date } | undefined> {
  const raw = await findSetting(deps.database, deps.secretBox, LAST_SETTING);
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { type?: unknown; at?: unknown };
    return typeof v.type === "string" && typeof v.at === "number" ? { type: v.type, at: new Date(v.at) } : undefined;
  } catch {
    return undefined;
  }
}

/** Read a request from Seerr: the request, "gone" when Seerr no longer has it, undefined when Seerr did not answer. */
async function readRemote(
  deps: SeerrDeps,
  seerr: ConfiguredSeerr,
  id: number,
): Promise<SeerrRequest | "gone" | undefined> {
  try {
    return (await seerr.client.getRequest(id)) ?? "gone";
  } catch (err) {
    if (!(err instanceof IntegrationError)) throw err;
    deps.log.warn("seerr webhook: cannot read the request back from Seerr", { request: id, error: err.message });
    return undefined;
  }
}

/** Act on one delivery from Seerr's webhook agent (already authenticated and parsed). */
export async function handleSeerrWebhook(deps: SeerrDeps, payload: SeerrWebhookPayload): Promise<WebhookOutcome> {
  const type = payload.notification_type;
  await rememberDelivery(deps, type);
  if (type === "TEST_NOTIFICATION") return { kind: "test" };
  if (!(type in SAID)) {
    // Issues, comments and types of newer Seerr versions: accepted, not acted on; said once per type.
    let seen = loggedTypes.get(deps.database);
    if (!seen) loggedTypes.set(deps.database, (seen = new Set()));
    if (!seen.has(type) && seen.size < 100) {
      seen.add(type);
      deps.log.info("seerr webhook: ignoring a notification type MediaNest does not act on", { type });
    }
    return { kind: "ignored", reason: `MediaNest does not act on ${type}` };
  }
  const seerr = await configuredSeerr(deps);
  if (!seerr) return { kind: "ignored", reason: "no Seerr is configured" };
  const out = { kind: "followed" as const, changed: 0, adopted: 0, removed: 0 };
  const requestId = Number(payload.request?.request_id || 0);
  const ids: number[] = [];
  if (requestId > 0) ids.push(requestId);
  else if (payload.media && (payload.media.media_type === "movie" || payload.media.media_type === "tv")) {
    // A title became available without naming a request: every live request for it is read again.
    const live = await listLiveRequestsForTitles(deps.database, payload.media.media_type, [
      Number(payload.media.tmdbId || 0),
    ]);
    for (const r of live) if (r.seerrServer === seerr.cacheId) ids.push(r.seerrRequestId);
  }
  for (const id of ids) {
    const remote = await readRemote(deps, seerr, id);
    const row = await findMediaRequestBySeerrId(deps.database, seerr.cacheId, id);
    if (remote === "gone") {
      if (row && (await markRemoved(deps, row)).status !== row.status) out.removed++;
      continue;
    }
    if (remote) {
      const followed = await followRemote(deps, seerr, remote);
      if (followed.kind === "changed") out.changed++;
      if (followed.kind === "adopted") out.adopted++;
      continue;
    }
    // Seerr did not answer: go by what the delivery says, forwards only.
    if (!row) continue;
    const said = SAID[type]!;
    const from = RANK[row.status];
    const to = RANK[said];
    const forwards =
      said === "declined"
        ? row.status === "pending"
        : said === "failed"
          ? from !== undefined && row.status !== "available"
          : from !== undefined && to !== undefined && to > from;
    if (!forwards) continue;
    if ((await transition(deps, row, said)).status === said) out.changed++;
  }
  return out;
}
