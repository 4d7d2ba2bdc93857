import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { BellCount, NoticeBanner, Toast } from "../../views/partials/live";
import { allow } from "../server/access";
import type { AppEnv } from "../server/deps";
import { topics, type DomainEvent, type LiveNotification } from "../services/events";
import { countUnreadNotifications, findLatestNotificationTime, listNotificationsSince } from "../store/notifications";

// Streams end after this long; the browser reconnects on its own and the session is checked again.
const MAX_STREAM_MS = 30 * 60_000;

/** The SSE id of a notification: its creation time, which a reconnecting browser sends back as Last-Event-ID. */
function eventId(createdAtMs: number): string {
  return `n${String(createdAtMs).padStart(13, "0")}`;
}

function bell(unread: number): string {
  return `<hx-partial hx-target="#bell-count" hx-swap="innerHTML">${String(BellCount({ unread }))}</hx-partial>`;
}

function toast(n: LiveNotification): string {
  return `<hx-partial hx-target="#toasts" hx-swap="beforeend">${String(Toast({ n }))}</hx-partial>`;
}

/** Render what one event sends down a stream: unnamed messages carry partials, named ones ask pages to refresh. */
function render(event: DomainEvent): { event?: string; data: string; id?: string }[] {
  switch (event.type) {
    case "notification":
      return [
        { data: bell(event.unread) + toast(event.notification), id: eventId(event.notification.createdAt) },
        { event: "mn-notifications", data: event.notification.id },
      ];
    case "unread":
      return [{ data: bell(event.unread) }, { event: "mn-notifications", data: "read" }];
    case "status":
      return [{ event: "mn-status", data: "changed" }];
    case "notice":
      return [{ data: `<hx-partial hx-target="#notice-banner" hx-swap="innerHTML">${String(NoticeBanner({ text: event.text }))}</hx-partial>` }];
    case "session-ended":
      return [];
  }
}

// Events for everyone render once, not once per stream.
const renderCache = new WeakMap<object, ReturnType<typeof render>>();
function renderOnce(event: DomainEvent) {
  let out = renderCache.get(event);
  if (!out) {
    out = render(event);
    renderCache.set(event, out);
  }
  return out;
}

/** The live stream: one SSE connection per signed-in browser, fed by the user's, admins' and everyone's topics. */
export function eventRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/events", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = c.get("user")!;
    const sessionHash = c.get("session")?.idHash;
    c.header("X-Accel-Buffering", "no");
    c.header("Cache-Control", "no-cache, no-transform");
    const lastEventId = c.req.header("last-event-id") ?? "";
    const heartbeatMs = deps.config.sseHeartbeat * 1000;
    return streamSSE(c, async (stream) => {
      let closed = false;
      const queue: DomainEvent[] = [];
      let wake: (() => void) | undefined;
      const close = () => {
        closed = true;
        wake?.();
      };
      const unregister = deps.live.add(close);
      const onEvent = (message: unknown) => {
        const event = message as DomainEvent;
        if (event.type === "session-ended") {
          if (event.sessionHash === sessionHash) close();
          return;
        }
        queue.push(event);
        wake?.();
      };
      const topicList = [topics.user(user.id), topics.everyone, ...(user.role === "admin" ? [topics.admins] : [])];
      const unsubscribes = await Promise.all(topicList.map((t) => deps.coordination.pubsub.subscribe(t, onEvent)));
      stream.onAbort(close);
      const deadline = setTimeout(close, MAX_STREAM_MS);
      try {
        // A reconnecting browser names the last notification it saw; send what it missed.
        const since = /^n(\d{13})$/.exec(lastEventId);
        let cursor: number;
        // Caught-up notifications that also arrive live (created while catching up) are sent once.
        const caughtUp = new Set<string>();
        if (since) {
          cursor = Number(since[1]);
          const missed = await listNotificationsSince(deps.database, user.id, new Date(cursor));
          for (const n of missed) {
            caughtUp.add(n.id);
            const live = { id: n.id, kind: n.kind, title: n.title, body: n.body, link: n.link, createdAt: n.createdAt.getTime() };
            await stream.writeSSE({ data: toast(live), id: eventId(live.createdAt) });
            cursor = live.createdAt;
          }
          if (missed.length > 0) await stream.writeSSE({ event: "mn-notifications", data: "missed" });
        } else {
          // The browser only sends Last-Event-ID once a message carried an id; give the first connection one,
          // so a page that has not seen a notification yet still catches up after a dropped stream.
          // Subscribed already: anything newer than this cursor arrives live.
          cursor = (await findLatestNotificationTime(deps.database, user.id))?.getTime() ?? 0;
        }
        await stream.writeSSE({ data: bell(await countUnreadNotifications(deps.database, user.id)), id: eventId(cursor) });
        let lastWrite = Date.now();
        while (!closed) {
          const event = queue.shift();
          if (event?.type === "notification" && caughtUp.has(event.notification.id)) continue;
          if (event) {
            for (const msg of renderOnce(event)) await stream.writeSSE(msg);
            lastWrite = Date.now();
            continue;
          }
          const idle = heartbeatMs - (Date.now() - lastWrite);
          if (idle <= 0) {
            await stream.write(": heartbeat\n\n");
            lastWrite = Date.now();
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, idle);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        clearTimeout(deadline);
        unregister();
        await Promise.all(unsubscribes.map((u) => u().catch(() => {})));
      }
    });
  });
  return app;
}
