// Live updates across replicas: two app instances share one Redis prefix (one deployment), each serving HTTP on
// its own port. A browserless SSE client holds a stream on replica B; events published on replica A reach it
// through Redis. Each instance has its own SQLite file here, so the user and session rows are written to both,
// as a shared database would hold them. Skipped (visibly, by test/helpers/services.ts) without Redis.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { notify } from "../src/services/notifications";
import { setNotice } from "../src/services/notice";
import { SESSION_COOKIE, startSession } from "../src/services/sessions";
import { insertSession, type Session } from "../src/store/sessions";
import type { User } from "../src/store/users";
import { redisAvailable, testRedisPrefix } from "./helpers/services";
import { createTestApp, givenUser, type TestApp } from "./helpers/test-app";

const HEARTBEAT_S = 0.2;

interface SseMessage {
  /** Milliseconds since the epoch when the client parsed it. */
  at: number;
  event?: string;
  data?: string;
  id?: string;
  comment?: string;
}

/** A minimal EventSource over fetch: records every message and comment, and when the stream ended. */
class SseClient {
  readonly messages: SseMessage[] = [];
  ended = false;
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  private constructor(readonly response: Response) {
    this.done = this.read().finally(() => {
      this.ended = true;
    });
  }

  static async open(url: string, cookie: string): Promise<SseClient> {
    const ac = new AbortController();
    const res = await fetch(url, {
      headers: { cookie, accept: "text/event-stream" },
      signal: ac.signal,
      redirect: "manual",
    });
    if (res.status !== 200) throw new Error(`sse: ${url} answered ${res.status}`);
    const client = new SseClient(res);
    client.abort.signal.addEventListener("abort", () => ac.abort());
    return client;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of this.response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const msg: SseMessage = { at: Date.now() };
          for (const line of block.split("\n")) {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "") msg.comment = value;
            else if (field === "data") msg.data = msg.data === undefined ? value : `${msg.data}\n${value}`;
            else if (field === "event") msg.event = value;
            else if (field === "id") msg.id = value;
          }
          this.messages.push(msg);
        }
      }
    } catch {
      // Aborted by close().
    }
  }

  /** Wait for a message matching `match` (including ones already received). */
  async waitFor(what: string, match: (m: SseMessage) => boolean, ms = 3000): Promise<SseMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.ended) throw new Error(`sse: the stream ended before ${what}`);
      if (Date.now() > deadline)
        throw new Error(`sse: no ${what} within ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await Bun.sleep(10);
    }
  }

  /** Resolve true when the stream ends within `ms`, false otherwise. */
  async endsWithin(ms: number): Promise<boolean> {
    return Promise.race([this.done.then(() => true), Bun.sleep(ms).then(() => false)]);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

describe.skipIf(!redisAvailable)("SSE fan-out across two replicas sharing Redis", () => {
  let a: TestApp;
  let b: TestApp;
  let serverA: ReturnType<typeof Bun.serve>;
  let serverB: ReturnType<typeof Bun.serve>;
  let urlA: string;
  let urlB: string;
  let user: User;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    const redisPrefix = testRedisPrefix();
    const env = { MEDIANEST_SSE_HEARTBEAT: String(HEARTBEAT_S) };
    a = await createTestApp({ redis: true, redisPrefix, env });
    b = await createTestApp({ redis: true, redisPrefix, env });
    for (const t of [a, b]) await givenUser(t.deps, { id: "admin-1", role: "admin", username: "owner" });
    user = await givenUser(a.deps, { id: "user-1", username: "maria", displayName: "Maria" });
    await givenUser(b.deps, { id: user.id, username: user.username, displayName: user.displayName });
    const serve = (t: TestApp) =>
      Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        idleTimeout: 60,
        fetch: (req, srv) => t.app.fetch(req, { server: srv }),
      });
    serverA = serve(a);
    serverB = serve(b);
    urlA = `http://127.0.0.1:${serverA.port}`;
    urlB = `http://127.0.0.1:${serverB.port}`;
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await serverA?.stop(true);
    await serverB?.stop(true);
    await a?.close();
    await b?.close();
  });

  /** Start a session on B and mirror its row into A's database, as the shared database would have it. */
  async function sessionOnBoth(): Promise<{ cookie: string; session: Session }> {
    const { cookie, session } = await startSession(b.deps, user, { ip: "127.0.0.1", userAgent: "sse-fanout" });
    await insertSession(a.deps.database, session);
    return { cookie: `${SESSION_COOKIE}=${cookie}`, session };
  }

  /** Open a stream on replica B and wait for its first message, which it sends once subscribed. */
  async function streamOnB(cookie: string): Promise<SseClient> {
    const client = await SseClient.open(`${urlB}/events`, cookie);
    clients.push(client);
    await client.waitFor(
      "the first message (unread count)",
      (m) => m.data?.includes('hx-target="#bell-count"') ?? false,
    );
    return client;
  }

  function postOnA(path: string, cookie: string, csrf: string) {
    return fetch(`${urlA}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: urlA, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
  }

  test("a notification created on replica A reaches the stream held by replica B", async () => {
    const { cookie } = await sessionOnBoth();
    const client = await streamOnB(cookie);
    expect(b.deps.live.size).toBeGreaterThanOrEqual(1);
    expect(a.deps.live.size).toBe(0);

    const n = (await notify(a.deps, user.id, { kind: "test", title: "Dune is ready <4K>", body: "On Plex now." }))!;
    const toast = await client.waitFor("the toast", (m) => m.data?.includes("Dune is ready &lt;4K&gt;") ?? false);
    expect(toast.id).toBe(`n${n.id}`);
    expect(toast.data).toContain('hx-target="#toasts"');
    expect(toast.data).toContain('<hx-partial hx-target="#bell-count" hx-swap="innerHTML">1</hx-partial>');
    await client.waitFor("the list refresh event", (m) => m.event === "mn-notifications" && m.data === n.id);

    // An event for everyone (the maintenance notice) crosses replicas the same way.
    await setNotice(a.deps, { ip: "127.0.0.1" }, "Plex restarts at 23:00");
    await client.waitFor("the notice banner", (m) => m.data?.includes("Plex restarts at 23:00") ?? false);
  });

  test("the stream is unbuffered text/event-stream and sends heartbeats while idle", async () => {
    const { cookie } = await sessionOnBoth();
    const client = await streamOnB(cookie);
    expect(client.response.headers.get("content-type")).toStartWith("text/event-stream");
    expect(client.response.headers.get("x-accel-buffering")).toBe("no");
    expect(client.response.headers.get("cache-control")).toContain("no-cache");
    const since = Date.now();
    await Bun.sleep(HEARTBEAT_S * 1000 * 3.5);
    const beats = client.messages.filter((m) => m.at >= since && m.comment === "heartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < beats.length; i++)
      expect(beats[i]!.at - beats[i - 1]!.at).toBeGreaterThanOrEqual(HEARTBEAT_S * 1000 * 0.5);
  });

  test("revoking a session on replica A ends its stream on replica B, and only that one", async () => {
    const target = await sessionOnBoth();
    const other = await sessionOnBoth();
    const targetStream = await streamOnB(target.cookie);
    const otherStream = await streamOnB(other.cookie);

    // The account page's "Sign out" on another of the user's sessions, served by replica A.
    const publicId = target.session.idHash.slice(0, 16);
    const res = await postOnA(`/account/sessions/${publicId}/revoke`, other.cookie, other.session.csrfToken);
    expect(res.status).toBe(303);
    expect(await targetStream.endsWithin(2000)).toBe(true);
    const after = Date.now();
    await otherStream.waitFor("a heartbeat after the revocation", (m) => m.comment === "heartbeat" && m.at > after);
    expect(otherStream.ended).toBe(false);
  });

  test("signing out on replica A ends that session's stream on replica B", async () => {
    const s = await sessionOnBoth();
    const stream = await streamOnB(s.cookie);
    const res = await postOnA("/logout", s.cookie, s.session.csrfToken);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
    expect(await stream.endsWithin(2000)).toBe(true);
  });

  test("the stream refuses anonymous clients", async () => {
    const page = await fetch(`${urlB}/events`, { redirect: "manual", headers: { accept: "text/event-stream" } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/events")}`);
    const htmx = await fetch(`${urlB}/events`, {
      redirect: "manual",
      headers: { accept: "text/event-stream", "hx-request": "true" },
    });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get("content-type") ?? "").not.toContain("text/event-stream");
    const forged = await fetch(`${urlB}/events`, {
      redirect: "manual",
      headers: { cookie: `${SESSION_COOKIE}=not-a-session` },
    });
    expect(forged.status).toBe(303);
  });
});
