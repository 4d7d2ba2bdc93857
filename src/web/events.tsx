import { Hono } from "hono";
import { DownloadProgressBar, progressId } from "../../views/partials/download-progress";
import { BellCount, NoticeBanner, PendingCount, Toast } from "../../views/partials/live";
import { allow } from "../server/access";
import type { AppDeps, AppEnv } from "../app/deps";
import { topics, type DomainEvent, type LiveNotification } from "../services/events";
import { resolveSessionByHash } from "../services/sessions";
import { countUnreadNotifications, findLatestNotificationId, listNotificationsAfter } from "../store/notifications";

// Streams end after this long; the browser reconnects on its own and the session is checked again.
const MAX_STREAM_MS = 30 * 60_000;

/**
 * The SSE id of a notification: `n` and its id (ids sort in creation order), which a reconnecting browser sends back
 * as Last-Event-ID. `n0` stands before every notification.
 */
function eventId(notificationId: string): string {
  return `n${notificationId}`;
}

function bell(unread: number): string {
  return `<hx-partial hx-target="#bell-count" hx-swap="innerHTML">${String(BellCount({ unread }))}</hx-partial>`;
}

function toast(n: LiveNotification): string {
  return `<hx-partial hx-target="#toasts" hx-swap="beforeend">${String(Toast({ n }))}</hx-partial>`;
}

interface SseMessage {
  event?: string;
  data: string;
  id?: string;
}

const encoder = new TextEncoder();

/** Encode one SSE message; every line of data gets its own `data:` field. */
function encode(m: SseMessage): Uint8Array {
  let out = "";
  if (m.id !== undefined) out += `id: ${m.id}\n`;
  if (m.event) out += `event: ${m.event}\n`;
  for (const line of m.data.split("\n")) out += `data: ${line}\n`;
  return encoder.encode(out + "\n");
}

/** Render what one event sends down a stream: unnamed messages carry partials, named ones ask pages to refresh. */
function render(event: DomainEvent): SseMessage[] {
  switch (event.type) {
    case "notification":
      return [
        { data: bell(event.unread) + toast(event.notification), id: eventId(event.notification.id) },
        { event: "mn-notifications", data: event.notification.id },
      ];
    case "unread":
      return [{ data: bell(event.unread) }, { event: "mn-notifications", data: "read" }];
    case "status":
      return [{ event: "mn-status", data: "changed" }];
    case "notice":
      return [
        {
          data: `<hx-partial hx-target="#notice-banner" hx-swap="innerHTML">${String(NoticeBanner({ text: event.text }))}</hx-partial>`,
        },
      ];
    case "request-changed":
      return [{ event: "mn-requests", data: event.requestId }];
    case "requests-pending":
      return [
        {
          data: `<hx-partial hx-target="#pending-requests" hx-swap="innerHTML">${String(PendingCount({ pending: event.pending }))}</hx-partial>`,
        },
        { event: "mn-admin-requests", data: String(event.pending) },
      ];
    case "session-ended":
      return [];
    case "download-progress":
      return [
        {
          data: `<hx-partial hx-target="#${progressId(event.progress.downloadId)}" hx-swap="outerHTML">${String(DownloadProgressBar({ downloadId: event.progress.downloadId, progress: event.progress }))}</hx-partial>`,
        },
      ];
    case "download-changed":
      return [{ event: "mn-downloads", data: event.downloadId || "queue" }];
  }
}

// An event for everyone is rendered and encoded once, then the same bytes go down every stream.
const renderCache = new WeakMap<object, Uint8Array[]>();
function renderOnce(event: DomainEvent): Uint8Array[] {
  let out = renderCache.get(event);
  if (!out) {
    out = render(event).map(encode);
    renderCache.set(event, out);
  }
  return out;
}

const HEARTBEAT = encoder.encode(": heartbeat\n\n");
// A browser that stops reading is dropped once this much waits for it; it reconnects and catches up.
const MAX_BUFFERED_BYTES = 1 << 20;

interface StreamOwner {
  userId: string;
  isAdmin: boolean;
  sessionHash: string | undefined;
  lastEventId: string;
  signal: AbortSignal;
}

/**
 * Open one live stream. Kept apart from the handler so a stream's closures hold only what they use, not the
 * request's context: with thousands of open streams that is most of their memory.
 */
async function openLiveStream(deps: AppDeps, owner: StreamOwner): Promise<Response> {
  const heartbeatMs = deps.config.sseHeartbeat * 1000;
  const topicList = [topics.user(owner.userId), topics.everyone, ...(owner.isAdmin ? [topics.admins] : [])];

  // A plain stream, written to as events arrive: no loop or promise per stream while it idles.
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let lastWrite = Date.now();
  // Events that arrive while the opening messages are being prepared wait here, in order.
  let pending: DomainEvent[] | undefined = [];
  const caughtUp = new Set<string>();
  const unsubscribes: (() => Promise<void>)[] = [];
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let unregister = () => {};

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(deadline);
    unregister();
    for (const u of unsubscribes) void u().catch(() => {});
    try {
      controller.close();
    } catch {
      // already closed by the client going away
    }
  };
  const write = (bytes: Uint8Array) => {
    if (closed) return;
    if ((controller.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) return close();
    controller.enqueue(bytes);
    lastWrite = Date.now();
  };
  const deliver = (event: DomainEvent) => {
    if (event.type === "notification" && caughtUp.has(event.notification.id)) return;
    for (const bytes of renderOnce(event)) write(bytes);
  };
  const onEvent = (message: unknown) => {
    const event = message as DomainEvent;
    if (event.type === "session-ended") {
      if (event.sessionHash === owner.sessionHash) close();
      return;
    }
    if (pending) pending.push(event);
    else deliver(event);
  };

  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      controller = ctrl;
    },
    cancel: close,
  });
  unregister = deps.live.add(close);
  // Whatever fails while opening (Redis refusing a subscription, the database down) must not leave the
  // registration, the subscriptions or the timers of a stream nobody will read.
  try {
    for (const t of topicList) unsubscribes.push(await deps.coordination.pubsub.subscribe(t, onEvent));
    owner.signal.addEventListener("abort", close);
    deadline = setTimeout(close, MAX_STREAM_MS);
    let ticks = 0;
    heartbeat = setInterval(() => {
      if (Date.now() - lastWrite >= heartbeatMs - 50) write(HEARTBEAT);
      // Every fourth heartbeat (a minute by default) the session is read again: one that ended where no event
      // reaches this replica (the create-admin command, expiry, a disabled user) still ends its stream.
      const hash = owner.sessionHash;
      if (hash && ++ticks % 4 === 0) {
        resolveSessionByHash(deps, hash, new Date(), { touch: false }).then(
          (found) => found || close(),
          () => {}, // the database is away: keep the stream; the next check asks again
        );
      }
    }, heartbeatMs);

    // A reconnecting browser names the last notification it saw; send what it missed.
    const since = /^n([0-9a-z-]{1,64})$/.exec(owner.lastEventId);
    let cursor: string;
    if (since) {
      cursor = since[1]!;
      const missed = await listNotificationsAfter(deps.database, owner.userId, cursor);
      for (const n of missed) {
        caughtUp.add(n.id);
        const live = {
          id: n.id,
          kind: n.kind,
          title: n.title,
          body: n.body,
          link: n.link,
          createdAt: n.createdAt.getTime(),
        };
        write(encode({ data: toast(live), id: eventId(n.id) }));
        cursor = n.id;
      }
      if (missed.length > 0) write(encode({ event: "mn-notifications", data: "missed" }));
    } else {
      // The browser only sends Last-Event-ID once a message carried an id; give the first connection one, so a
      // page that has not seen a notification yet still catches up after a dropped stream. Subscribed already:
      // anything newer than this cursor arrives live.
      cursor = (await findLatestNotificationId(deps.database, owner.userId)) ?? "0";
    }
    write(encode({ data: bell(await countUnreadNotifications(deps.database, owner.userId)), id: eventId(cursor) }));
    const queued = pending;
    pending = undefined;
    for (const event of queued) deliver(event);
  } catch (err) {
    close();
    throw err;
  }
  if (owner.signal.aborted) close();

  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
      Connection: "keep-alive",
    },
  });
}

/** The live stream: one SSE connection per signed-in browser, fed by the user's, admins' and everyone's topics. */
export function eventRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/events", allow("user"), (c) => {
    const user = c.get("user")!;
    return openLiveStream(c.get("deps"), {
      userId: user.id,
      isAdmin: user.role === "admin",
      sessionHash: c.get("session")?.idHash,
      lastEventId: c.req.header("last-event-id") ?? "",
      signal: c.req.raw.signal,
    });
  });
  return app;
}
