// Object ownership, walked over the real app's route table: a member cannot read or change another member's
// downloads, requests, subscriptions, notifications, notification targets, sessions or API tokens through any route
// that takes an id (pages, and /api/v1 with a personal token), whatever the route; the same requests on the
// member's own objects do change them (so the refusals are not a broken request). A member cannot approve; a
// disabled user's session, API token and live stream stop at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApiToken } from "../src/services/api-tokens";
import { notify } from "../src/services/notifications";
import { SESSION_COOKIE, startSession } from "../src/services/sessions";
import { findDownloadById, insertDownload } from "../src/store/downloads";
import { findMediaRequestById, insertMediaRequest } from "../src/store/media-requests";
import { insertNotificationTarget } from "../src/store/notification-targets";
import { listSessionsByUser } from "../src/store/sessions";
import { insertSubscription } from "../src/store/subscriptions";
import type { User } from "../src/store/users";
import { publicSessionId } from "../views/pages/account";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { dumpTables, firstDifference } from "./helpers/db-dump";
import { createTestApp, givenUser, ORIGIN, signIn, type Browser, type TestApp } from "./helpers/test-app";

interface Owned {
  user: User;
  browser: Browser;
  token: string;
  ids: Record<string, string>;
  /** Texts only this user's objects carry: none may appear on another member's page. */
  markers: string[];
}

/** Give a user one of every object a member owns, each named with the tag. */
async function givenOwnedObjects(t: TestApp, tag: string, address: string): Promise<Owned> {
  const user = await givenUser(t.deps, { displayName: `${tag} person` });
  const browser = await signIn(t, user);
  const now = new Date();
  const download = crypto.randomUUID();
  await insertDownload(
    t.deps.database,
    {
      id: download,
      userId: user.id,
      url: `https://www.youtube.com/watch?v=${tag}`,
      kind: "video",
      remoteId: `${tag}-video`,
      title: `${tag}-download-title`,
      quality: "best",
      sectionKey: "1",
      folder: "/nowhere",
      status: "awaiting_approval",
      itemCount: 1,
      createdAt: now,
      updatedAt: now,
    },
    [
      {
        id: `${download}-1`,
        downloadId: download,
        userId: user.id,
        position: 1,
        remoteId: `${tag}-video`,
        title: `${tag}-item-title`,
        url: `https://www.youtube.com/watch?v=${tag}`,
        status: "awaiting_approval",
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      },
    ],
  );
  const request = await insertMediaRequest(t.deps.database, {
    id: crypto.randomUUID(),
    userId: user.id,
    seerrServer: "nowhere",
    seerrRequestId: Math.floor(Math.random() * 1e9),
    mediaType: "movie",
    tmdbId: 900000 + Math.floor(Math.random() * 99999),
    title: `${tag}-request-title`,
    seasons: [],
    is4k: false,
    status: "pending",
    source: "medianest",
    createdAt: now,
    updatedAt: now,
  });
  const subscription = crypto.randomUUID();
  await insertSubscription(
    t.deps.database,
    {
      id: subscription,
      userId: user.id,
      url: `https://www.youtube.com/@${tag}/videos`,
      title: `${tag}-subscription-title`,
      quality: "best",
      sectionKey: "1",
      status: "active",
      checkDueAt: new Date(now.getTime() + 3_600_000),
      queuedCount: 0,
      createdAt: now,
      updatedAt: now,
    },
    [],
  );
  const notification = (await notify(t.deps, user.id, {
    kind: "test",
    title: `${tag}-notification-title`,
    body: `${tag}-notification-body`,
  }))!;
  const target = crypto.randomUUID();
  await insertNotificationTarget(t.deps.database, {
    id: target,
    userId: user.id,
    kind: "webhook",
    name: `${tag}-target-name`,
    configEnc: t.deps.secretBox.encrypt(JSON.stringify({ url: `https://${tag}-hooks.example.com/hook` })),
    events: ["announcement"],
    enabled: true,
    createdAt: now,
    updatedAt: now,
  });
  const api = await createApiToken(t.deps, user, `${tag}-token-name`);
  // A second session, as from another device: its public id is what the account page names it by.
  await startSession(t.deps, user, { ip: address, userAgent: `${tag}-other-device` });
  const other = (await listSessionsByUser(t.deps.database, user.id)).find((s) => s.userAgent.startsWith(tag))!;
  return {
    user,
    browser,
    token: api.raw,
    ids: {
      download,
      downloadItem: `${download}-1`,
      request: request.id,
      subscription,
      notification: notification.id,
      target,
      token: api.token.id,
      session: publicSessionId(other),
    },
    markers: [
      `${tag}-download-title`,
      `${tag}-item-title`,
      `${tag}-request-title`,
      `${tag}-subscription-title`,
      `${tag}-notification-title`,
      `${tag}-target-name`,
      `${tag}-token-name`,
      address,
      `${tag}-hooks.example.com`,
    ],
  };
}

interface Route {
  method: string;
  path: string;
}

const PARAM = /:[a-zA-Z]+(\{[^}]*\})?\??/g;
const HAS_PARAM = /\/:[a-zA-Z]/;

describe("object ownership", () => {
  let t: TestApp;
  let plextv: FakePlexTv;
  let alice: Owned;
  let bob: Owned;
  let admin: Browser;
  let routes: Route[];

  beforeAll(async () => {
    plextv = startFakePlexTv();
    t = await createTestApp({ env: { MEDIANEST_PLEX_TV_URL: plextv.url }, logLines: [] });
    admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    alice = await givenOwnedObjects(t, "alice", "192.0.2.7");
    bob = await givenOwnedObjects(t, "bob", "192.0.2.8");
    const seen = new Set<string>();
    routes = [];
    for (const r of await t.app.routes()) {
      if (r.method === "ALL" || seen.has(`${r.method} ${r.path}`)) continue;
      seen.add(`${r.method} ${r.path}`);
      routes.push({ method: r.method, path: r.path });
    }
  });
  afterAll(async () => {
    await t.close();
    await plextv.stop();
  });

  /** Send one request as a member: by session cookie (with CSRF), or under /api by their personal token. */
  async function asMember(
    who: Owned,
    route: Route,
    id: string,
    via: "page" | "htmx" | "token",
    form: Record<string, string> = {},
  ): Promise<Response> {
    const url = route.path.replace(PARAM, encodeURIComponent(id));
    const headers: Record<string, string> = { origin: ORIGIN };
    if (via === "token") headers.authorization = `Bearer ${who.token}`;
    else {
      headers.cookie = who.browser.cookie;
      headers["x-csrf-token"] = who.browser.csrf;
    }
    if (via === "htmx") headers["hx-request"] = "true";
    if (route.method === "GET") return t.request(url, { headers });
    headers["content-type"] = "application/x-www-form-urlencoded";
    const body = new URLSearchParams({ ...form, ...(via === "token" ? {} : { _csrf: who.browser.csrf }) });
    return t.request(url, { method: route.method, headers, body });
  }

  // Forms that name their object in a field rather than in the path (the subscriptions form, bulk decisions).
  const FORMS = (id: string): Record<string, string>[] => [
    { op: "remove", subscription: id, id, ids: id, approve: id },
    { op: "pause", subscription: id, id, ids: id, decline: id, action: "decline" },
  ];

  async function readBody(res: Response): Promise<string> {
    if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      await res.body?.cancel();
      return "";
    }
    return res.text();
  }

  test("no route that takes an id lets a member read or change another member's objects", async () => {
    const problems: string[] = [];
    const withIds = routes.filter((r) => HAS_PARAM.test(r.path) && r.path !== "/static/:file");
    expect(withIds.length).toBeGreaterThan(20);
    for (const route of withIds) {
      const vias = route.path.startsWith("/api/") ? (["page", "token"] as const) : (["page", "htmx"] as const);
      for (const [kind, id] of Object.entries(bob.ids)) {
        for (const via of vias) {
          for (const form of route.method === "GET" ? [{}] : FORMS(id)) {
            const before = dumpTables(t);
            const res = await asMember(alice, route, id, via, form);
            const body = await readBody(res);
            const label = `${route.method} ${route.path} with bob's ${kind} as alice (${via}) → ${res.status}`;
            const leaked = bob.markers.filter((m) => body.includes(m));
            if (leaked.length) problems.push(`${label} shows ${leaked.join(", ")}`);
            const after = dumpTables(t);
            if (after !== before) problems.push(`${label} changed ${firstDifference(before, after)}`);
            if (route.method !== "GET" && res.status < 400) problems.push(`${label}: answered as if it were done`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("no page or API answer without an id shows a member another member's objects", async () => {
    const problems: string[] = [];
    const lists = routes.filter((r) => r.method === "GET" && !HAS_PARAM.test(r.path));
    for (const route of lists) {
      for (const via of route.path.startsWith("/api/") ? (["page", "token"] as const) : (["page", "htmx"] as const)) {
        const res = await asMember(alice, route, "", via);
        const body = await readBody(res);
        const leaked = bob.markers.filter((m) => body.includes(m));
        if (leaked.length) problems.push(`${route.path} (${via}) shows ${leaked.join(", ")}`);
      }
    }
    // Alice's own objects are on her pages, so the markers are the kind of text these pages show.
    const mine = (
      await Promise.all(
        ["/downloads", "/notifications", "/account", "/account/notifications", "/requests"].map((p) =>
          alice.browser.get(p).then((r) => r.text()),
        ),
      )
    ).join("\n");
    for (const m of [
      "alice-download-title",
      "alice-notification-title",
      "alice-token-name",
      "192.0.2.7",
      "alice-target-name",
      "alice-request-title",
    ])
      expect(mine).toContain(m);
    expect(problems).toEqual([]);
  });

  test("the same requests on a member's own objects do reach them", async () => {
    const find = (path: string) => routes.find((r) => r.path === path && r.method === "POST")!;
    expect((await asMember(alice, find("/account/tokens/:id/revoke"), alice.ids.token!, "htmx")).status).toBe(200);
    expect((await asMember(alice, find("/account/sessions/:id/revoke"), alice.ids.session!, "htmx")).status).toBe(200);
    expect(
      (await asMember(alice, find("/notifications/:id/delete"), alice.ids.notification!, "htmx")).status,
    ).toBeLessThan(400);
    expect((await asMember(alice, find("/account/notifications/:id/delete"), alice.ids.target!, "page")).status).toBe(
      303,
    );
    expect((await asMember(alice, find("/downloads/:id/cancel"), alice.ids.download!, "page")).status).toBeLessThan(
      400,
    );
    expect((await findDownloadById(t.deps.database, alice.ids.download!))?.status).toBe("cancelled");
    const manage = await asMember(alice, find("/downloads/:id"), "subscriptions", "page", {
      op: "remove",
      subscription: alice.ids.subscription!,
    });
    expect(manage.status).toBeLessThan(400);
    const left = await Promise.all(
      ["/account", "/notifications", "/account/notifications", "/downloads/subscriptions"].map((p) =>
        alice.browser.get(p).then((r) => r.text()),
      ),
    );
    const page = left.join("\n");
    for (const gone of [
      "alice-token-name",
      "192.0.2.7",
      "alice-notification-title",
      "alice-target-name",
      "alice-subscription-title",
    ])
      expect(page).not.toContain(gone);
  });

  test("a member cannot approve or decline downloads or requests, not even their own", async () => {
    for (const who of [alice, bob]) {
      for (const action of ["approve", "decline"]) {
        const res = await who.browser.post(`/admin/downloads/${bob.ids.download}/${action}`, { reason: "no" });
        expect(res.status).toBe(403);
      }
      const res = await who.browser.post("/admin/requests", { approve: bob.ids.request!, ids: bob.ids.request! });
      expect(res.status).toBe(403);
    }
    // Every approving or declining route of the table, the JSON API's included, refuses a member's own objects too.
    const deciding = routes.filter((r) => r.method !== "GET" && /approve|decline/.test(r.path));
    expect(deciding.length).toBeGreaterThanOrEqual(2);
    for (const route of deciding)
      for (const id of [bob.ids.download!, bob.ids.request!])
        for (const via of route.path.startsWith("/api/") ? (["token", "page"] as const) : (["page"] as const)) {
          const res = await asMember(bob, route, id, via, { reason: "no" });
          expect(`${route.method} ${route.path} (${via}) → ${res.status}`).toBe(
            `${route.method} ${route.path} (${via}) → 403`,
          );
        }
    expect((await findDownloadById(t.deps.database, bob.ids.download!))?.status).toBe("awaiting_approval");
    expect((await findMediaRequestById(t.deps.database, bob.ids.request!))?.status).toBe("pending");
  });

  test("a disabled user's session, API token and live stream stop at once", async () => {
    const events = await t.request("/events", { headers: { cookie: bob.browser.cookie } });
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    await reader.read();
    expect((await bob.browser.get("/downloads")).status).toBe(200);
    expect((await t.request("/api/v1/me", { headers: { authorization: `Bearer ${bob.token}` } })).status).toBe(200);

    const res = await admin.post(`/admin/users/${bob.user.id}/disable`);
    expect(res.status).toBeLessThan(400);

    const page = await bob.browser.get("/downloads");
    expect([401, 303]).toContain(page.status);
    expect(page.headers.get("location") ?? "").toStartWith("/login");
    const post = await bob.browser.post(`/downloads/${bob.ids.download}/cancel`);
    expect([401, 303]).toContain(post.status);
    expect((await t.request("/api/v1/me", { headers: { authorization: `Bearer ${bob.token}` } })).status).toBe(401);
    // The stream ends (after at most the events already on their way).
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    expect(await Promise.race([ended, Bun.sleep(5000).then(() => false)])).toBe(true);
    // A session cookie made before the disable is refused too, not only the one in use.
    const { cookie } = await startSession(t.deps, bob.user, { ip: "127.0.0.1", userAgent: "late" });
    expect((await t.request("/downloads", { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } })).status).not.toBe(
      200,
    );
  });
});
