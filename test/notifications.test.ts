import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { notify } from "../src/services/notifications";
import { countUnreadNotifications, insertNotification, UNREAD_COUNT_CAP } from "../src/store/notifications";
import { deleteSessionsByUser } from "../src/store/sessions";
import { postgresAvailable } from "./helpers/services";
import { createTestApp, type Dialect, givenUser, signIn, type TestApp } from "./helpers/test-app";

/** Read SSE messages from a streaming response until `until` matches or the time runs out. */
async function readStream(res: Response, until: (text: string) => boolean, ms = 3000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !until(text)) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text;
}

describe("notification center", () => {
  let t: TestApp;
  beforeEach(async () => {
    // A stream made to fail while opening logs an error: captured, so a clean run reads clean.
    t = await createTestApp({ logLines: [] });
    await givenUser(t.deps, { role: "admin" });
  });
  afterEach(async () => {
    await t.close();
  });

  test("notifications are stored, listed, marked read one by one or all, deleted; others' are out of reach", async () => {
    const user = await givenUser(t.deps);
    const other = await givenUser(t.deps);
    const b = await signIn(t, user);
    const ob = await signIn(t, other);
    const first = (await notify(t.deps, user.id, { kind: "test", title: "First", body: "one" }))!;
    await notify(t.deps, user.id, { kind: "test", title: "Second", body: "two", link: "/status" });
    const page = await b.get("/notifications");
    const html = await page.text();
    expect(html.indexOf("Second")).toBeLessThan(html.indexOf("First"));
    expect(html).toContain('<span class="badge" id="bell-count" aria-live="polite">2</span>');

    expect((await ob.post(`/notifications/${first.id}/read`, {}, { "hx-request": "true" })).status).toBe(404);
    expect((await ob.post(`/notifications/${first.id}/delete`, {}, { "hx-request": "true" })).status).toBe(404);
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(2);

    expect((await b.post(`/notifications/${first.id}/read`, {}, { "hx-request": "true" })).status).toBe(200);
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(1);
    expect((await b.post("/notifications/all/read")).status).toBe(303);
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(0);
    expect((await b.post(`/notifications/${first.id}/delete`)).status).toBe(303);
    const after = await (await b.get("/notifications")).text();
    expect(after).not.toContain("First");
    expect(after).toContain("Second");
    const empty = await (await ob.get("/notifications")).text();
    expect(empty).toContain("You&#39;re all caught up");
  });

  test("the live stream sends the unread count, then a toast for a new notification, and catches up after a reconnect", async () => {
    const user = await givenUser(t.deps);
    const b = await signIn(t, user);
    const res = await b.get("/events");
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const reading = readStream(res, (s) => s.includes("mn-notifications"));
    await Bun.sleep(50);
    const n = (await notify(t.deps, user.id, { kind: "test", title: "Hello <there>", body: "Ready to watch" }))!;
    const text = await reading;
    expect(text).toContain('hx-target="#bell-count"');
    expect(text).toContain("Hello &lt;there&gt;");
    expect(text).toContain(`id: n${n.id}`);
    expect(text).toContain("event: mn-notifications");

    // A browser that saw nothing after an earlier moment gets what it missed on reconnect.
    const missed = (await notify(t.deps, user.id, { kind: "test", title: "While you were away", body: "x" }))!;
    const again = await b.get("/events", { "last-event-id": `n${n.id}` });
    const caught = await readStream(again, (s) => s.includes("While you were away"));
    expect(caught).toContain("While you were away");
    expect(caught).toContain(`id: n${missed.id}`);
    expect(caught).not.toContain("Hello &lt;there&gt;");
  });

  test("catch-up tells apart notifications made in the same millisecond", async () => {
    const user = await givenUser(t.deps);
    const b = await signIn(t, user);
    const at = new Date();
    await insertNotification(t.deps.database, {
      id: "0000test0001",
      userId: user.id,
      kind: "test",
      title: "Seen",
      body: "x",
      link: null,
      createdAt: at,
      readAt: null,
    });
    await insertNotification(t.deps.database, {
      id: "0000test0002",
      userId: user.id,
      kind: "test",
      title: "Same moment",
      body: "x",
      link: null,
      createdAt: at,
      readAt: null,
    });
    const res = await b.get("/events", { "last-event-id": "n0000test0001" });
    const text = await readStream(res, (s) => s.includes("Same moment"));
    expect(text).toContain("Same moment");
    expect(text).not.toContain(">Seen<");
    expect(text).toContain("id: n0000test0002");
  });

  test("a stream that fails while opening leaves no registration or subscription behind", async () => {
    const user = await givenUser(t.deps);
    const b = await signIn(t, user);
    const pubsub = t.deps.coordination.pubsub;
    const subscribe = pubsub.subscribe.bind(pubsub);
    const live: (() => Promise<void>)[] = [];
    let calls = 0;
    // Fault injection on the injected dependency: the second subscription fails, as Redis may mid-outage.
    pubsub.subscribe = async (topic, handler) => {
      if (++calls === 2) throw new Error("coordination: redis SUBSCRIBE failed: connection lost");
      const unsubscribe = await subscribe(topic, handler);
      const tracked = async () => {
        live.splice(live.indexOf(tracked), 1);
        await unsubscribe();
      };
      live.push(tracked);
      return tracked;
    };
    try {
      const res = await b.get("/events");
      expect(res.status).toBe(503);
      await Bun.sleep(10);
      expect(t.deps.live.size).toBe(0);
      expect(live).toHaveLength(0);
    } finally {
      pubsub.subscribe = subscribe;
    }
  });

  test("another user's notification never reaches my stream", async () => {
    const me = await givenUser(t.deps);
    const other = await givenUser(t.deps);
    const res = await (await signIn(t, me)).get("/events");
    const reading = readStream(res, (s) => s.includes("Mine"), 1500);
    await Bun.sleep(50);
    await notify(t.deps, other.id, { kind: "test", title: "Theirs", body: "x" });
    await notify(t.deps, me.id, { kind: "test", title: "Mine", body: "x" });
    const text = await reading;
    expect(text).toContain("Mine");
    expect(text).not.toContain("Theirs");
  });

  test("disabling a user ends their open live streams at once", async () => {
    const member = await givenUser(t.deps);
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    const res = await (await signIn(t, member)).get("/events");
    const reader = res.body!.getReader();
    await reader.read();
    expect((await admin.post(`/admin/users/${member.id}/disable`)).status).toBe(303);
    const deadline = Date.now() + 3000;
    let ended = false;
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
      if (!chunk) break;
      if (chunk.done) {
        ended = true;
        break;
      }
    }
    expect(ended).toBe(true);
  });

  test("a session deleted where no event reaches the server (the create-admin command) ends its stream within four heartbeats", async () => {
    const fast = await createTestApp({ env: { MEDIANEST_SSE_HEARTBEAT: "0.05" } });
    try {
      await givenUser(fast.deps, { role: "admin" });
      const member = await givenUser(fast.deps);
      const b = await signIn(fast, member);
      const reader = (await b.get("/events")).body!.getReader();
      await reader.read();
      // Still open through several checks while the session is good.
      const readUntil = async (ms: number): Promise<boolean> => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
          if (!chunk) return false;
          if (chunk.done) return true;
        }
        return false;
      };
      expect(await readUntil(500)).toBe(false);
      // What create-admin does: delete the rows directly, publishing nothing.
      await deleteSessionsByUser(fast.deps.database, member.id);
      expect(await readUntil(3000)).toBe(true);
    } finally {
      await fast.close();
    }
  });
});

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  test.skipIf(dialect === "postgres" && !postgresAvailable)(
    `on ${dialect} the unread count stops at the cap, where the bell says 99+, and counts only unread ones`,
    async () => {
      const t = await createTestApp({ dialect });
      try {
        await givenUser(t.deps, { role: "admin" });
        const user = await givenUser(t.deps);
        const at = new Date();
        const row = (i: number, readAt: Date | null) => ({
          id: `n${String(i).padStart(4, "0")}`,
          userId: user.id,
          kind: "test",
          title: `N${i}`,
          body: "",
          link: null,
          createdAt: at,
          readAt,
        });
        for (let i = 0; i < 99; i++) await insertNotification(t.deps.database, row(i, null));
        for (let i = 99; i < 120; i++) await insertNotification(t.deps.database, row(i, at));
        expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(99);
        const b = await signIn(t, user);
        expect(await (await b.get("/")).text()).toContain('id="bell-count" aria-live="polite">99</span>');
        for (let i = 120; i < 120 + UNREAD_COUNT_CAP; i++) await insertNotification(t.deps.database, row(i, null));
        expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(UNREAD_COUNT_CAP);
        expect(await (await b.get("/")).text()).toContain('id="bell-count" aria-live="polite">99+</span>');
      } finally {
        await t.close();
      }
    },
  );
}
