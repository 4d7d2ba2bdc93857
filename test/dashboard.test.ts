import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { forgetDashboardCache } from "../src/services/dashboard";
import { imageProxyKey, signedPlexImageUrl, verifyImageRequest } from "../src/services/image-proxy";
import { savePlexIntegration, saveYtdlpPath } from "../src/services/integrations";
import { runStatusChecks } from "../src/services/status";
import {
  plexEpisode,
  plexMovie,
  plexSession,
  startFakePlexServer,
  TINY_PNG,
  type FakePlexServer,
} from "./fakes/plex-server";
import { postgresAvailable, redisAvailable } from "./helpers/services";
import { createTestApp, givenUser, signIn, type Browser, type Dialect, type TestApp } from "./helpers/test-app";

const OWNER_TOKEN = "owner-token-Zq8sV1xY";
const MACHINE = "machine-dash-1";
const ALICE_TOKEN = "alice-server-token-Pq2";
const HX = { "hx-request": "true" };
// The fake holds "timeout" requests this long; the app's fetch gives up sooner (see shortTimeoutFetch).
const HOLD_MS = 4000;
const CLIENT_GIVES_UP_MS = 800;

/** Give up on calls like the integration timeout would, but sooner, so the timeout case runs in under a second. */
const shortTimeoutFetch = ((input: RequestInfo | URL, init?: RequestInit) => {
  const signals = [AbortSignal.timeout(CLIENT_GIVES_UP_MS), ...(init?.signal ? [init.signal] : [])];
  return fetch(input, { ...init, signal: AbortSignal.any(signals) });
}) as typeof fetch;

const inception = plexMovie({ ratingKey: "101", title: "Inception", addedAt: 1_700_000_300 });
const pilot = plexEpisode({
  ratingKey: "201",
  title: "Pilot",
  grandparentTitle: "Breaking Bad",
  addedAt: 1_700_000_200,
});
const heat = plexMovie({ ratingKey: "102", title: "Heat", year: 1995, addedAt: 1_700_000_100 });

const SESSIONS = [
  plexSession(inception, {
    sessionKey: "1",
    user: { id: "5001", title: "alice" },
    state: "playing",
    product: "Plex for Apple TV",
    playerTitle: "Living Room",
    viewOffset: 4_440_000,
    transcode: { videoDecision: "transcode", audioDecision: "copy" },
  }),
  plexSession(pilot, {
    sessionKey: "2",
    user: { id: "5002", title: "carol" },
    state: "paused",
    product: "Plex Web",
    playerTitle: "Firefox",
  }),
  plexSession(heat, {
    sessionKey: "3",
    user: { id: "5003", title: "Bob" },
    state: "buffering",
    product: "Plex for Android",
    playerTitle: "Pixel",
  }),
];

function count(fake: FakePlexServer, path: string): number {
  return fake.requests.filter((r) => r.path === path).length;
}

function imageUrls(html: string): string[] {
  return [...html.matchAll(/<img[^>]+src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
}

const variants: [Dialect, boolean, boolean][] = [
  ["sqlite", false, true],
  ["postgres", true, postgresAvailable && redisAvailable],
];

for (const [dialect, redis, available] of variants) {
  describe.skipIf(!available)(`dashboard on ${dialect} + ${redis ? "redis" : "memory"}`, () => {
    let fake: FakePlexServer;
    let t: TestApp;
    let admin: Browser;
    let alice: Browser;
    let bob: Browser;
    let dave: Browser;

    beforeAll(async () => {
      fake = startFakePlexServer({
        machineIdentifier: MACHINE,
        ownerToken: OWNER_TOKEN,
        userTokens: [ALICE_TOKEN],
        items: [heat, pilot, inception],
        sessions: SESSIONS,
        holdMs: HOLD_MS,
      });
      t = await createTestApp({ dialect, redis, fetch: shortTimeoutFetch, logLines: [] });
      admin = await signIn(t, await givenUser(t.deps, { role: "admin", username: "owner" }));
      // alice is linked to her Plex account; bob is a local account named like his Plex user; dave watches nothing.
      // alice signed in with Plex, so MediaNest holds her own token for this server.
      alice = await signIn(
        t,
        await givenUser(t.deps, {
          username: "alice",
          plexId: 5001,
          plexTokenEnc: t.deps.secretBox.encrypt(ALICE_TOKEN),
          plexTokenServer: MACHINE,
        }),
      );
      bob = await signIn(t, await givenUser(t.deps, { username: "bob" }));
      dave = await signIn(t, await givenUser(t.deps, { username: "dave", plexId: 5004 }));
      await savePlexIntegration(t.deps, { url: fake.url, token: OWNER_TOKEN, machineIdentifier: MACHINE });
    });
    afterAll(async () => {
      await t.close();
      await fake.stop();
    });
    beforeEach(async () => {
      await forgetDashboardCache(t.deps);
      fake.setSessions(SESSIONS);
    });

    test("cached data of another shape (another version sharing the cache) is ignored, never a 500", async () => {
      await t.deps.coordination.cache.set(`dashboard:now-playing:${MACHINE}`, { ok: true, data: "not a list" }, 60_000);
      await t.deps.coordination.cache.set(`dashboard:recently-added:${MACHINE}`, { something: "else" }, 60_000);
      const res = await admin.get("/");
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('hx-get="/dashboard/now-playing"');
      await forgetDashboardCache(t.deps);
    });

    test("the page answers at once without calling Plex; uncached sections load themselves", async () => {
      fake.failNext("timeout");
      const before = fake.requests.length;
      const started = performance.now();
      const res = await admin.get("/");
      const html = await res.text();
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(CLIENT_GIVES_UP_MS);
      expect(fake.requests.length).toBe(before);
      expect(html).toContain('hx-get="/dashboard/now-playing"');
      expect(html).toContain('hx-get="/dashboard/recently-added"');
      expect(html.match(/hx-trigger="load"/g)?.length).toBe(2);
      expect(html).not.toContain("Inception");
      // Drain the queued fault so it does not hit a later test.
      const drained = await admin.get("/dashboard/now-playing", HX);
      expect(await drained.text()).toContain("Plex did not answer (timeout after 5 s)");
    });

    test("an admin sees every stream with user, player, state, progress and transcode or direct play", async () => {
      const res = await admin.get("/dashboard/now-playing", HX);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).not.toContain("<html");
      for (const text of [
        "Inception",
        "Breaking Bad",
        "Season 1 · Pilot",
        "Heat",
        "alice",
        "carol",
        "Bob",
        "Plex for Apple TV · Living Room",
        "Plex Web · Firefox",
      ]) {
        expect(html).toContain(text);
      }
      expect(html).toContain(">playing<");
      expect(html).toContain(">paused<");
      expect(html).toContain(">buffering<");
      expect(html.match(/>Transcoding</g)?.length).toBe(1);
      expect(html.match(/>Direct play</g)?.length).toBe(2);
      // 4,440,000 of 8,880,000 ms.
      expect(html).toContain('aria-valuenow="50"');
      expect(html).toContain('<rect width="50.0"');
      expect(html).toContain("1:14:00 of 2:28:00");
      expect(html).toContain('hx-trigger="every 15s"');
      const sessionCall = fake.requests.find((r) => r.path === "/status/sessions")!;
      expect(sessionCall.headers["x-plex-token"]).toBe(OWNER_TOKEN);
      expect(html).not.toContain(OWNER_TOKEN);
    });

    test("now playing is cached: many loads cost one Plex call, and the page then shows it without a placeholder", async () => {
      const before = count(fake, "/status/sessions");
      await Promise.all([
        admin.get("/dashboard/now-playing", HX),
        alice.get("/dashboard/now-playing", HX),
        bob.get("/dashboard/now-playing", HX),
      ]);
      await admin.get("/dashboard/now-playing", HX);
      expect(count(fake, "/status/sessions")).toBe(before + 1);

      const total = fake.requests.length;
      const page = await (await admin.get("/")).text();
      expect(fake.requests.length).toBe(total);
      expect(page).toContain("Inception");
      expect(page).toContain('id="dash-now-playing"');
      expect(page.match(/hx-trigger="load"/g)?.length).toBe(1); // only recently added is still to load
    });

    test("saving the Plex settings again drops the cached dashboard data, so the next load asks Plex", async () => {
      await admin.get("/dashboard/now-playing", HX);
      const before = count(fake, "/status/sessions");
      await admin.get("/dashboard/now-playing", HX);
      expect(count(fake, "/status/sessions")).toBe(before);
      const saved = await admin.post("/admin/integrations/plex", { plexUrl: fake.url, plexToken: OWNER_TOKEN });
      expect(saved.status).toBeLessThan(400);
      await admin.get("/dashboard/now-playing", HX);
      expect(count(fake, "/status/sessions")).toBe(before + 1);
    });

    test("a member sees only their own streams, matched by Plex account id; a member not linked to Plex sees none", async () => {
      const aliceHtml = await (await alice.get("/dashboard/now-playing", HX)).text();
      expect(aliceHtml).toContain("Inception");
      expect(aliceHtml).toContain("Transcoding");
      expect(aliceHtml).not.toContain("Breaking Bad");
      expect(aliceHtml).not.toContain("Heat");
      expect(aliceHtml).not.toContain("carol");

      // bob is a local account whose user name equals a Plex user's: a name proves nothing, so he sees no stream.
      const bobHtml = await (await bob.get("/dashboard/now-playing", HX)).text();
      expect(bobHtml).toContain("You are not watching anything on Plex right now.");
      for (const title of ["Inception", "Breaking Bad", "Heat"]) expect(bobHtml).not.toContain(title);

      const daveHtml = await (await dave.get("/dashboard/now-playing", HX)).text();
      expect(daveHtml).toContain("You are not watching anything on Plex right now.");
      for (const title of ["Inception", "Breaking Bad", "Heat"]) expect(daveHtml).not.toContain(title);

      // A Plex-linked member is not matched by username when the session names another account.
      fake.setSessions([plexSession(pilot, { user: { id: "9999", title: "alice" } })]);
      await forgetDashboardCache(t.deps);
      expect(await (await alice.get("/dashboard/now-playing", HX)).text()).not.toContain("Breaking Bad");
    });

    test("recently added shows posters through signed /img/plex URLs and no Plex token anywhere", async () => {
      const res = await alice.get("/dashboard/recently-added", HX);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html.indexOf("Inception")).toBeLessThan(html.indexOf("Heat"));
      expect(html).toContain("Breaking Bad · S1·E1");
      const call = fake.requests.findLast((r) => r.path === "/library/recentlyAdded")!;
      expect(call.query["X-Plex-Container-Size"]).toBe("12");
      expect(call.headers["x-plex-token"]).toBe(ALICE_TOKEN);
      const urls = imageUrls(html);
      expect(urls.length).toBe(3);
      const key = imageProxyKey(t.deps);
      for (const u of urls) {
        expect(u.startsWith("/img/plex?")).toBe(true);
        const q = Object.fromEntries(new URL(u, "http://x").searchParams);
        expect(verifyImageRequest(key, q).path).toMatch(/^\/library\/metadata\/\d+\/thumb\/\d+$/);
      }
      const page = await (await alice.get("/")).text();
      expect(imageUrls(page).length).toBeGreaterThanOrEqual(3);
      for (const body of [html, page, await (await admin.get("/dashboard/now-playing", HX)).text()]) {
        expect(body).not.toContain(OWNER_TOKEN);
        expect(body).not.toContain(ALICE_TOKEN);
        expect(body.toLowerCase()).not.toContain("x-plex-token");
        expect(body).not.toContain(fake.url);
      }
    });

    test("Plex failures become a message in the section, never a 500", async () => {
      const cases: [Parameters<FakePlexServer["failNext"]>[0], string][] = [
        [503, "Plex refused the request (status 503)"],
        [401, "Plex rejected the credentials (status 401)"],
        ["html", "Plex answered something that is not JSON"],
        ["garbage", "Plex answered something that is not JSON"],
        ["timeout", "Plex did not answer (timeout after 5 s)"],
      ];
      for (const [fault, message] of cases) {
        await forgetDashboardCache(t.deps);
        fake.failNext(fault);
        const res = await admin.get("/dashboard/now-playing", HX);
        expect(res.status).toBe(200);
        const html = await res.text();
        expect(html).toContain(message);
        expect(html).toContain('id="dash-now-playing"');
      }
      await forgetDashboardCache(t.deps);
      fake.failNext(500);
      const recent = await admin.get("/dashboard/recently-added", HX);
      expect(recent.status).toBe(200);
      expect(await recent.text()).toContain("Plex refused the request (status 500)");

      // A failure is remembered briefly, so a down server is not asked again by every page load.
      const before = fake.requests.length;
      expect(await (await admin.get("/dashboard/recently-added", HX)).text()).toContain(
        "Plex refused the request (status 500)",
      );
      expect(fake.requests.length).toBe(before);

      // An unreachable server.
      await forgetDashboardCache(t.deps);
      await savePlexIntegration(t.deps, { url: "http://127.0.0.1:1", token: OWNER_TOKEN });
      try {
        const down = await admin.get("/dashboard/now-playing", HX);
        expect(down.status).toBe(200);
        expect(await down.text()).toContain("Plex could not be reached");
      } finally {
        await forgetDashboardCache(t.deps);
        await savePlexIntegration(t.deps, { url: fake.url, token: OWNER_TOKEN });
      }
    });

    test("the status summary counts tiles by state, names the ones not up, and refreshes on mn-status", async () => {
      await saveYtdlpPath(t.deps, "/nonexistent/medianest-dashboard-test/yt-dlp");
      await runStatusChecks(t.deps, { timeoutMs: 2000 });
      const before = fake.requests.length;
      const page = await (await alice.get("/")).text();
      expect(fake.requests.length).toBe(before);
      for (const html of [page, await (await alice.get("/dashboard/status", HX)).text()]) {
        const section = html.slice(
          html.indexOf('<section id="dash-status"'),
          html.indexOf("</section>", html.indexOf('<section id="dash-status"')),
        );
        expect(section).toContain('hx-get="/dashboard/status"');
        expect(section).toContain('hx-trigger="mn-status from:#live"');
        expect(section).toContain('data-state="up">1 up<');
        expect(section).toContain('data-state="down">1 down<');
        expect(section).toContain('data-state="degraded">0 degraded<');
        expect(section).toContain('data-state="unknown">0 unknown<');
        const problems = section.slice(section.indexOf('<ul class="status-problems">'));
        expect(problems).toContain('<a href="/status">yt-dlp</a>');
        expect(problems).toContain("yt-dlp not found at");
        expect(problems).not.toContain(">Plex<");
      }
    });

    test("the image proxy serves the PNG once, then from its cache", async () => {
      const url = signedPlexImageUrl(imageProxyKey(t.deps), "/library/metadata/101/thumb/1700000000", 240, 360)!;
      const before = count(fake, "/photo/:/transcode");
      const res = await alice.get(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(res.headers.get("cache-control")).toContain("private");
      expect(res.headers.get("cache-control")).toContain("max-age=");
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(TINY_PNG);
      const upstream = fake.requests.filter((r) => r.path === "/photo/:/transcode").at(-1)!;
      expect(upstream.query.url).toBe("/library/metadata/101/thumb/1700000000");
      expect(upstream.query.width).toBe("240");
      expect(upstream.query.height).toBe("360");
      expect(upstream.headers["x-plex-token"]).toBe(OWNER_TOKEN);
      for (const [, value] of res.headers) expect(value).not.toContain(OWNER_TOKEN);

      const again = await bob.get(url);
      expect(again.status).toBe(200);
      expect(new Uint8Array(await again.arrayBuffer())).toEqual(TINY_PNG);
      expect(count(fake, "/photo/:/transcode")).toBe(before + 1);
    });

    test("the image proxy refuses unsigned, tampered and out-of-library requests", async () => {
      const key = imageProxyKey(t.deps);
      const path = "/library/metadata/102/thumb/1700000000";
      const good = new URL(signedPlexImageUrl(key, path, 240, 360)!, "http://x");
      const before = fake.requests.length;

      const missing = new URL(good);
      missing.searchParams.delete("s");
      expect((await alice.get(missing.pathname + missing.search)).status).toBe(403);

      const tampered = new URL(good);
      tampered.searchParams.set("p", "/library/metadata/103/thumb/1700000000");
      expect((await alice.get(tampered.pathname + tampered.search)).status).toBe(403);

      const resized = new URL(good);
      resized.searchParams.set("w", "241");
      expect((await alice.get(resized.pathname + resized.search)).status).toBe(403);

      const flipped = new URL(good);
      const s = flipped.searchParams.get("s")!;
      flipped.searchParams.set("s", (s[0] === "A" ? "B" : "A") + s.slice(1));
      expect((await alice.get(flipped.pathname + flipped.search)).status).toBe(403);

      // Bad paths are refused whatever the signature says (the signing helper refuses to sign them too).
      for (const bad of [
        "/library/../:/prefs",
        "/library/metadata/1/%2e%2e/%2e%2e/accounts",
        "http://evil.example/x.png",
        "//evil.example/library/x.png",
        "/:/prefs",
        "/accounts",
      ]) {
        expect(signedPlexImageUrl(key, bad, 240, 360)).toBeNull();
        const q = new URLSearchParams({ p: bad, w: "240", h: "360", s: good.searchParams.get("s")! });
        const res = await alice.get(`/img/plex?${q}`);
        expect(res.status).toBe(400);
      }
      for (const [w, h] of [
        ["0", "360"],
        ["240", "99999"],
        ["-5", "360"],
        ["abc", "360"],
      ]) {
        const q = new URLSearchParams({ p: path, w: w!, h: h!, s: good.searchParams.get("s")! });
        expect((await alice.get(`/img/plex?${q}`)).status).toBe(400);
      }
      expect(fake.requests.length).toBe(before);

      const anonymous = await t.request(good.pathname + good.search);
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get("location")).toStartWith("/login");
    });

    test("the image proxy answers 502 with a readable message when Plex sends something that is not an image", async () => {
      const url = signedPlexImageUrl(imageProxyKey(t.deps), "/library/metadata/201/thumb/1700000000", 120, 180)!;
      fake.failNext("html");
      const res = await alice.get(url);
      expect(res.status).toBe(502);
      expect(res.headers.get("content-type")).toStartWith("text/plain");
      expect(await res.text()).toContain("not an image");
      fake.failNext(404);
      const missing = await alice.get(url);
      expect(missing.status).toBe(502);
      expect(await missing.text()).toContain("Plex refused the request (status 404)");
      // Failures are not cached: the next try reaches Plex and succeeds.
      const ok = await alice.get(url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toBe("image/png");
    });
  });
}

describe("dashboard without Plex", () => {
  let t: TestApp;
  let admin: Browser;
  let member: Browser;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    member = await signIn(t, await givenUser(t.deps, { role: "user" }));
  });
  afterAll(async () => {
    await t.close();
  });

  test("says Plex is not connected, and shows admins where to connect it", async () => {
    const page = await (await admin.get("/")).text();
    expect(page).toContain("No Plex server is connected to MediaNest yet.");
    expect(page).toContain('href="/admin/integrations"');
    expect(page).not.toContain('hx-trigger="load"');

    const memberPage = await (await member.get("/")).text();
    expect(memberPage).toContain("No Plex server is connected to MediaNest yet.");
    expect(memberPage).toContain("Ask the owner to connect one.");
    expect(memberPage).not.toContain("Connect your Plex server");

    for (const path of ["/dashboard/now-playing", "/dashboard/recently-added"]) {
      const res = await member.get(path, HX);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("No Plex server is connected to MediaNest yet.");
    }
  });

  test("the image proxy says Plex is not configured", async () => {
    const url = signedPlexImageUrl(imageProxyKey(t.deps), "/library/metadata/1/thumb/1", 120, 180)!;
    const res = await member.get(url);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("no Plex server is configured");
  });

  test("signed-out visitors get the sign-in prompt, not the dashboard", async () => {
    const res = await t.request("/");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('href="/login"');
    expect(html).not.toContain("dash-now-playing");
  });
});
