/**
 * Outbound notifications: the targets each user sends their notifications to (webhook, Discord, ntfy, email),
 * the deliveries notify() queues for them, and the worker step that sends, retries and gives up.
 */
import { z } from "zod";
import {
  DestinationError,
  normaliseHost,
  resolveDestination,
  type DestinationPolicy,
} from "../integrations/destination";
import { IntegrationError } from "../integrations/http";
import { sendEmail } from "../integrations/outbound/email";
import { sendDiscord, sendNtfy, sendWebhook } from "../integrations/outbound/http-targets";
import {
  discordConfigSchema,
  emailConfigSchema,
  isHttpUrl,
  ntfyConfigSchema,
  SEND_TIMEOUT_MS,
  webhookConfigSchema,
  type OutboundMessage,
  type SendOptions,
  type SendResult,
  type TargetConfig,
} from "../integrations/outbound/types";
import type { AppDeps } from "../app/deps";
import { DELIVERY_JOB_ID } from "../app/jobs";
import type { Notification } from "../store/notifications";
import {
  claimDueDeliveries,
  deleteNotificationTarget,
  deleteSentDeliveriesBefore,
  finishDeliveryAttempt,
  insertNotificationDeliveries,
  insertNotificationTarget,
  listNotificationTargetsByUser,
  listTargetsForEvent,
  updateNotificationTarget,
  type DeliveryWithTarget,
  type NotificationTarget,
} from "../store/notification-targets";
import { findUserById, type User } from "../store/users";
import { VERSION } from "../version";
import { integrationObserver } from "./integration-observer";
import { isAdminOnlyEvent, NOTIFICATION_EVENTS } from "./notification-events";

/** Attempts before a delivery is marked failed. */
export const MAX_ATTEMPTS = 6;
/** Wait before attempt n+1 after attempt n failed (index n-1). */
export const BACKOFF_MS = [30_000, 120_000, 600_000, 3_600_000, 21_600_000] as const;
/** How long a claimed delivery stays "sending" before another worker may take it over (well above one send). */
export const CLAIM_LEASE_MS = 120_000;
const CLAIM_BATCH = 10;
/** A run stops after this many batches; the next run carries on (keeps one run from holding its lock for ever). */
const MAX_BATCHES_PER_RUN = 50;
const MAX_TARGETS_PER_USER = 20;
const KEEP_SENT_MS = 30 * 86_400_000;
const TEST_LIMIT = { limit: 10, windowMs: 60_000 };

/** A change to a target refused for a reason the user can fix; field names the form field. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly field: string = "_form",
  ) {
    super(message);
  }
}

/** Return the wait before the next attempt after `attempts` failed attempts. */
export function backoffAfter(attempts: number): number {
  return BACKOFF_MS[Math.min(Math.max(attempts, 1), BACKOFF_MS.length) - 1]!;
}

const configSchemas = {
  webhook: webhookConfigSchema,
  discord: discordConfigSchema,
  ntfy: ntfyConfigSchema,
  email: emailConfigSchema,
} as const;

/** Decrypt and check a target's stored config; throws "outbound: …" when it cannot be read. */
export function readTargetConfig(
  deps: Pick<AppDeps, "secretBox">,
  target: Pick<NotificationTarget, "kind" | "configEnc">,
): TargetConfig {
  let json: unknown;
  try {
    json = JSON.parse(deps.secretBox.decrypt(target.configEnc));
  } catch (err) {
    throw new Error(`outbound: cannot read the target's settings (${(err as Error).message})`, { cause: err });
  }
  const parsed = configSchemas[target.kind].safeParse(json);
  if (!parsed.success) throw new Error(`outbound: the target's stored settings are not valid for ${target.kind}`);
  return { kind: target.kind, config: parsed.data } as TargetConfig;
}

function hidden(value: string | undefined): string {
  return value ? "set (hidden)" : "none";
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === "/" && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return "(invalid URL)";
  }
}

/** Describe a target's settings for pages, every secret masked: Discord and webhook paths, tokens, passwords, ntfy topics. */
export function describeTargetConfig(t: TargetConfig): [string, string][] {
  switch (t.kind) {
    case "webhook":
      return [
        ["URL", originOf(t.config.url)],
        ["Authorization header", hidden(t.config.authorization)],
      ];
    case "discord":
      return [["Webhook", originOf(t.config.url)]];
    case "ntfy":
      // On a public ntfy server anyone who knows the topic can read it: the topic is a secret there.
      return [
        ["Server", t.config.server.replace(/\/+$/, "")],
        ["Topic", `${t.config.topic.slice(0, 2)}…`],
        ["Access token", hidden(t.config.token)],
      ];
    case "email":
      return [
        [
          "Server",
          `${t.config.host}:${t.config.port} (${t.config.security === "tls" ? "TLS" : t.config.security === "starttls" ? "STARTTLS" : "no encryption"})`,
        ],
        ["Sign in", t.config.user ? `${t.config.user}, password ${hidden(t.config.password)}` : "none"],
        ["From", t.config.from],
        ["To", t.config.to],
      ];
  }
}

function checkEvents(user: Pick<User, "role">, events: string[]): string[] {
  const known = new Set<string>(NOTIFICATION_EVENTS.map((e) => e.id));
  const unknown = events.find((e) => !known.has(e));
  if (unknown) throw new TargetError(`Unknown event “${unknown}”.`, "events");
  if (user.role !== "admin" && events.some(isAdminOnlyEvent))
    throw new TargetError("Only administrators can receive administrator events.", "events");
  return [...new Set(events)];
}

/**
 * Say where a target's owner may send: admins anywhere, members only to public internet addresses unless the
 * owner of the install allowed more (MEDIANEST_OUTBOUND_PRIVATE=everyone); otherwise any member could make the
 * server call inside its network.
 */
export function destinationPolicy(deps: Pick<AppDeps, "config">, owner: Pick<User, "role">): DestinationPolicy {
  return { allowPrivate: owner.role === "admin" || deps.config.outboundPrivate === "everyone" };
}

function targetHost(target: TargetConfig): { host: string; field: string } {
  if (target.kind === "email") return { host: target.config.host, field: "host" };
  const url = target.kind === "ntfy" ? target.config.server : target.config.url;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    host = url;
  }
  return { host, field: target.kind === "ntfy" ? "server" : "url" };
}

/**
 * Refuse, when a target is saved, a destination its owner may not send to. The senders check again (and connect
 * to the address they checked) every time; this only tells the user early. A name that does not resolve is
 * refused for members (it reads like any other refusal) and left to the send for admins.
 */
export async function checkDestination(
  deps: Pick<AppDeps, "config">,
  owner: Pick<User, "role">,
  target: TargetConfig,
): Promise<void> {
  const { host, field } = targetHost(target);
  const policy = destinationPolicy(deps, owner);
  const refused = (what: string) =>
    new TargetError(`${what}: only an administrator can send notifications to an address that is not public.`, field);
  try {
    await resolveDestination(host, policy, AbortSignal.timeout(SEND_TIMEOUT_MS));
  } catch (err) {
    if (err instanceof DestinationError && err.reason === "not_allowed") throw refused(err.message);
    const timedOut = (err as Error).name === "TimeoutError";
    if (!(err instanceof DestinationError) && !timedOut) throw err;
    // A name that does not answer in time is refused for a member as one that does not resolve.
    if (!policy.allowPrivate) throw refused(`${normaliseHost(host) ?? host} is not an allowed address`);
  }
}

/** Add a target for a user; its whole config is stored encrypted. */
export async function createNotificationTarget(
  deps: Pick<AppDeps, "database" | "secretBox" | "config">,
  user: Pick<User, "id" | "role">,
  input: { name: string; events: string[]; target: TargetConfig },
): Promise<NotificationTarget> {
  const events = checkEvents(user, input.events);
  await checkDestination(deps, user, input.target);
  const existing = await listNotificationTargetsByUser(deps.database, user.id);
  if (existing.length >= MAX_TARGETS_PER_USER)
    throw new TargetError(`You have ${MAX_TARGETS_PER_USER} targets already; delete one first.`);
  const now = new Date();
  const row: NotificationTarget = {
    id: crypto.randomUUID(),
    userId: user.id,
    kind: input.target.kind,
    name: input.name,
    configEnc: deps.secretBox.encrypt(JSON.stringify(input.target.config)),
    events,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  };
  await insertNotificationTarget(deps.database, row);
  return row;
}

/** Change a user's target: name, events, enabled. False when it is not theirs. */
export async function updateTargetSettings(
  deps: Pick<AppDeps, "database">,
  user: Pick<User, "id" | "role">,
  id: string,
  patch: { name: string; events: string[]; enabled: boolean },
): Promise<boolean> {
  const events = checkEvents(user, patch.events);
  return updateNotificationTarget(deps.database, id, user.id, {
    name: patch.name,
    events,
    enabled: patch.enabled,
    updatedAt: new Date(),
  });
}

/** Delete a user's target and its deliveries. False when it is not theirs. */
export function removeNotificationTarget(
  deps: Pick<AppDeps, "database">,
  user: Pick<User, "id">,
  id: string,
): Promise<boolean> {
  return deleteNotificationTarget(deps.database, id, user.id);
}

/** What a queued delivery carries besides its event; the link is made absolute when it is sent. */
const payloadSchema = z.object({
  title: z.string(),
  body: z.string(),
  link: z.string().nullable(),
  user: z.object({ id: z.string(), username: z.string(), displayName: z.string() }),
});

/**
 * Queue a delivery of a notification to each of its user's enabled targets that subscribe to its kind, then
 * kick the worker. Never throws: outbound trouble must not fail the notification itself.
 */
export async function queueOutboundDeliveries(
  deps: Pick<AppDeps, "database" | "log"> & Partial<Pick<AppDeps, "jobs">>,
  n: Notification,
): Promise<number> {
  try {
    const targets = await listTargetsForEvent(deps.database, n.userId, n.kind);
    if (targets.length === 0) return 0;
    const user = await findUserById(deps.database, n.userId);
    if (!user) return 0;
    const payload: z.infer<typeof payloadSchema> = {
      title: n.title,
      body: n.body,
      link: n.link,
      user: { id: user.id, username: user.username, displayName: user.displayName },
    };
    const now = new Date();
    await insertNotificationDeliveries(
      deps.database,
      targets.map((t) => ({
        id: crypto.randomUUID(),
        targetId: t.id,
        event: n.kind,
        payload,
        status: "pending" as const,
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        createdAt: now,
        sentAt: null,
      })),
    );
    kickDeliveryWorker(deps);
    return targets.length;
  } catch (err) {
    deps.log.error("outbound: unable to queue deliveries", {
      notification: n.id,
      kind: n.kind,
      error: (err as Error).message,
    });
    return 0;
  }
}

// Schedulers asked to run the worker since its last claim: a kick that finds the worker busy is not lost.
const kicked = new WeakSet<object>();

/** Start the delivery worker now without waiting for it; a busy worker picks the new rows up before it stops. */
export function kickDeliveryWorker(deps: Pick<AppDeps, "log"> & Partial<Pick<AppDeps, "jobs">>): void {
  const jobs = deps.jobs;
  if (!jobs?.has(DELIVERY_JOB_ID)) return;
  kicked.add(jobs);
  jobs
    .runNow(DELIVERY_JOB_ID)
    .then((outcome) => {
      // Skipped: running here (it sees the flag before it stops) or on another replica (its next tick is ≤ 10 s
      // away). One late retry covers a run that was already finishing when the kick came.
      if (outcome !== "skipped") return;
      const retry = setTimeout(() => {
        if (kicked.has(jobs)) void jobs.runNow(DELIVERY_JOB_ID).catch(() => {});
      }, 1000);
      retry.unref?.();
    })
    .catch((err: Error) => deps.log.warn("outbound: unable to start the delivery worker", { error: err.message }));
}

function resolveLink(publicUrl: string | undefined, link: string | null): string | null {
  if (!link || isHttpUrl(link)) return link;
  if (!publicUrl || !link.startsWith("/")) return link;
  try {
    return new URL(link, publicUrl).toString();
  } catch {
    return link;
  }
}

/**
 * Send one message to one target of this owner, held to the owner's destination policy; throws IntegrationError
 * on failure (kind "not_allowed" when the policy refused the address, nothing sent).
 */
export function sendToTarget(
  deps: Pick<AppDeps, "fetch" | "metrics" | "config">,
  owner: Pick<User, "role">,
  target: TargetConfig,
  message: OutboundMessage,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<SendResult> {
  const opts: SendOptions = {
    destination: destinationPolicy(deps, owner),
    fetch: deps.fetch,
    timeoutMs,
    observer: integrationObserver(deps),
    userAgent: `MediaNest/${VERSION}`,
  };
  const send = () => {
    switch (target.kind) {
      case "webhook":
        return sendWebhook(opts, target.config, message);
      case "discord":
        return sendDiscord(opts, target.config, message);
      case "ntfy":
        return sendNtfy(opts, target.config, message);
      case "email":
        return sendEmail(opts, target.config, message);
    }
  };
  // A receiver's refusal may quote the credentials it was sent (a mail server's "bad credentials for …"); what
  // becomes the page's text, the delivery's last_error and the log line must not.
  return send().catch((err: unknown) => {
    throw withoutSecrets(err, targetSecrets(target));
  });
}

/** The values of a target's config that are secrets, in the forms a receiver might quote them. */
function targetSecrets(target: TargetConfig): string[] {
  const forms = (s: string | undefined) =>
    s && s.length >= 4 ? [s, encodeURIComponent(s), Buffer.from(s).toString("base64")] : [];
  switch (target.kind) {
    case "webhook": {
      const auth = target.config.authorization;
      return [...forms(auth), ...forms(auth?.replace(/^\S+\s+/, ""))];
    }
    case "discord":
      // https://discord.com/api/webhooks/<id>/<token>
      return forms(new URL(target.config.url, "http://x").pathname.split("/").at(-1));
    case "ntfy":
      return forms(target.config.token);
    case "email": {
      const { user = "", password } = target.config;
      // SMTP AUTH PLAIN sends "\0user\0password" in base64, AUTH LOGIN each part alone.
      return password ? [...forms(password), ...forms(`\0${user}\0${password}`)] : [];
    }
  }
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  // Longest first, so a secret that holds another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("•••");
  return out;
}

/** The same error with every secret masked; the remote's own error object (which quotes them too) is left out. */
function withoutSecrets(err: unknown, secrets: string[]): unknown {
  if (secrets.length === 0) return err;
  if (err instanceof IntegrationError)
    return new IntegrationError({
      service: err.service,
      kind: err.kind,
      message: redact(err.message, secrets),
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.body !== undefined ? { body: redact(err.body, secrets) } : {}),
      ...(err.cause instanceof DestinationError ? { cause: err.cause } : {}),
    });
  if (err instanceof Error) return new Error(redact(err.message, secrets));
  return err;
}

// The explanation a receiver gave with its refusal (Discord's and ntfy's JSON, a short text), when there is one.
function remoteDetail(body: string | undefined): string | undefined {
  if (!body) return undefined;
  let text = body.trim();
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const found = [json.message, json.error, json.detail].find((v) => typeof v === "string" && v.trim() !== "");
    if (typeof found !== "string") return undefined;
    text = found;
  } catch {
    if (text.startsWith("<")) return undefined;
  }
  const clean = text.replace(/\s+/g, " ").trim();
  return clean ? clean.slice(0, 200) : undefined;
}

/** Describe why a send failed, in words for the page and the delivery's last_error. */
export function describeSendFailure(err: unknown): string {
  if (err instanceof IntegrationError) {
    const detail = remoteDetail(err.body);
    return detail ? `${err.message}: ${detail}` : err.message;
  }
  return `Sending failed (${err instanceof Error ? err.message : String(err)})`;
}

/**
 * True when retrying cannot help: the address is not allowed, or the receiver refused the request itself (4xx
 * other than 408/425/429, SMTP 5xx).
 */
export function isPermanentFailure(err: unknown): boolean {
  if (!(err instanceof IntegrationError)) return false;
  if (err.kind === "not_allowed") return true;
  const s = err.status;
  if (err.service === "email") return err.kind === "unauthorized" || (s !== undefined && s >= 500 && s !== 503);
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 425 && s !== 429;
}

/** The result of a test send, as the page shows it. */
export interface TestSendResult {
  ok: boolean;
  text: string;
}

/**
 * Send a test message to a target right now and say exactly what happened; never throws. The outcome is kept as
 * the target's latest delivery (event "test"), so the target and the admin outbound page show it afterwards.
 */
export async function sendTestNotification(
  deps: Pick<AppDeps, "database" | "fetch" | "metrics" | "secretBox" | "config" | "coordination" | "log">,
  user: Pick<User, "id" | "username" | "displayName" | "role">,
  target: NotificationTarget,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<TestSendResult> {
  let limit: { allowed: boolean; retryAfterMs: number };
  try {
    limit = await deps.coordination.rateLimiter.hit(
      `rl:outbound-test:${user.id}`,
      TEST_LIMIT.limit,
      TEST_LIMIT.windowMs,
    );
  } catch (err) {
    return { ok: false, text: describeSendFailure(err) };
  }
  if (!limit.allowed)
    return {
      ok: false,
      text: `Too many tests; try again in ${Math.max(1, Math.ceil(limit.retryAfterMs / 1000))} seconds.`,
    };
  const started = new Date();
  const payload: z.infer<typeof payloadSchema> = {
    title: "MediaNest test notification",
    body: `This is a test of “${target.name}”. If you can read it, your MediaNest notifications arrive here.`,
    link: "/account/notifications",
    user: { id: user.id, username: user.username, displayName: user.displayName },
  };
  let result: TestSendResult;
  try {
    const config = readTargetConfig(deps, target);
    const r = await sendToTarget(
      deps,
      user,
      config,
      { event: "test", ...payload, link: resolveLink(deps.config.publicUrl, payload.link), sentAt: started },
      timeoutMs,
    );
    result = { ok: true, text: `Delivered (${r.status} in ${r.ms} ms)` };
  } catch (err) {
    result = { ok: false, text: describeSendFailure(err) };
  }
  const now = new Date();
  try {
    await insertNotificationDeliveries(deps.database, [
      {
        id: crypto.randomUUID(),
        targetId: target.id,
        event: "test",
        payload,
        status: result.ok ? "sent" : "failed",
        attempts: 1,
        nextAttemptAt: now,
        lastError: result.ok ? null : result.text,
        createdAt: started,
        sentAt: result.ok ? now : null,
      },
    ]);
  } catch (err) {
    deps.log.warn("outbound: unable to record a test's outcome", { target: target.id, error: (err as Error).message });
  }
  return result;
}

/** How a delivery attempt ended. */
export type AttemptOutcome =
  | { status: "sent" }
  | { status: "retry"; error: string; nextAttemptAt: Date }
  | { status: "failed"; error: string };

/** What one run of the worker did. */
export interface DeliveryRunSummary {
  sent: number;
  retried: number;
  failed: number;
}

type WorkerDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "config" | "log"> &
  Partial<Pick<AppDeps, "jobs">>;

/** Send one claimed delivery and record the outcome: sent, retry later with backoff, or failed for good. */
export async function attemptDelivery(
  deps: WorkerDeps,
  item: DeliveryWithTarget,
  timeoutMs = SEND_TIMEOUT_MS,
): Promise<AttemptOutcome> {
  const { delivery: d, target } = item;
  const now = () => new Date();
  let outcome: AttemptOutcome;
  // What a refused destination resolved to: for the log (admins), never for the page.
  let refusal: string | undefined;
  try {
    if (!target.enabled) throw new TargetError("The target was turned off before this was sent.");
    let config: TargetConfig;
    try {
      config = readTargetConfig(deps, target);
    } catch (err) {
      throw new TargetError((err as Error).message);
    }
    const owner = await findUserById(deps.database, target.userId);
    if (!owner) throw new TargetError("The target's owner no longer exists.");
    const payload = payloadSchema.safeParse(d.payload);
    if (!payload.success) throw new TargetError("outbound: the queued notification is not readable");
    const p = payload.data;
    await sendToTarget(
      deps,
      owner,
      config,
      {
        event: d.event,
        title: p.title,
        body: p.body,
        link: resolveLink(deps.config.publicUrl, p.link),
        user: p.user,
        sentAt: now(),
      },
      timeoutMs,
    );
    outcome = { status: "sent" };
  } catch (err) {
    // Retrying cannot fix an unreadable or disabled target, nor a request the receiver refused as such.
    const error = err instanceof TargetError ? err.message : describeSendFailure(err);
    if (err instanceof IntegrationError && err.cause instanceof DestinationError) refusal = err.cause.detail;
    if (err instanceof TargetError || (err instanceof IntegrationError && err.kind === "not_allowed"))
      outcome = { status: "failed", error };
    else if (isPermanentFailure(err))
      outcome = { status: "failed", error: `${error} (not retried: the receiver refused it)` };
    else if (d.attempts >= MAX_ATTEMPTS)
      outcome = { status: "failed", error: `${error} (gave up after ${d.attempts} attempts)` };
    else outcome = { status: "retry", error, nextAttemptAt: new Date(Date.now() + backoffAfter(d.attempts)) };
  }
  const recorded = await finishDeliveryAttempt(
    deps.database,
    d.id,
    d.attempts,
    outcome.status === "sent"
      ? { status: "sent", at: now() }
      : outcome.status === "retry"
        ? { status: "pending", nextAttemptAt: outcome.nextAttemptAt, error: outcome.error }
        : { status: "failed", at: now(), error: outcome.error },
  );
  if (!recorded)
    deps.log.warn("outbound: delivery was taken over before its outcome was recorded", {
      delivery: d.id,
      outcome: outcome.status,
    });
  if (outcome.status !== "sent")
    deps.log.warn("outbound: delivery failed", {
      delivery: d.id,
      target: target.id,
      kind: target.kind,
      attempt: d.attempts,
      outcome: outcome.status,
      error: outcome.error,
      ...(refusal ? { refusal } : {}),
    });
  return outcome;
}

/**
 * Claim and send due deliveries until none are left (or the run's batch cap is reached). A kick that arrives
 * while this runs makes it look again before it stops. onGaveUp hears of each delivery marked failed.
 */
export async function processDueDeliveries(
  deps: WorkerDeps,
  opts: { onGaveUp?: (item: DeliveryWithTarget, error: string) => Promise<void>; timeoutMs?: number } = {},
): Promise<DeliveryRunSummary> {
  const summary: DeliveryRunSummary = { sent: 0, retried: 0, failed: 0 };
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
    if (deps.jobs) kicked.delete(deps.jobs);
    const now = new Date();
    const claimed = await claimDueDeliveries(deps.database, {
      now,
      leaseUntil: new Date(now.getTime() + CLAIM_LEASE_MS),
      limit: CLAIM_BATCH,
    });
    if (claimed.length === 0) {
      if (deps.jobs && kicked.has(deps.jobs)) continue;
      break;
    }
    // Settle every send before going on: a store error fails the run, but not while sends are still in flight.
    const results = await Promise.allSettled(
      claimed.map(async (item) => {
        const outcome = await attemptDelivery(deps, item, opts.timeoutMs);
        if (outcome.status === "sent") summary.sent++;
        else if (outcome.status === "retry") summary.retried++;
        else {
          summary.failed++;
          // A target its owner turned off is not a failure anyone needs to hear about.
          if (item.target.enabled) {
            await opts
              .onGaveUp?.(item, outcome.error)
              .catch((err: Error) =>
                deps.log.warn("outbound: unable to report a failed delivery", { error: err.message }),
              );
          }
        }
      }),
    );
    const broken = results.find((r) => r.status === "rejected");
    if (broken) throw broken.reason;
  }
  await deleteSentDeliveriesBefore(deps.database, new Date(Date.now() - KEEP_SENT_MS));
  return summary;
}
