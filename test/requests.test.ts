import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { checkQuota } from "../src/services/media-requests";
import { setImportAllowed } from "../src/services/seerr-users";
import {
  findSeerrLink,
  insertMediaRequest,
  listMediaRequests,
  type MediaRequestState,
} from "../src/store/media-requests";
import { findUserById, updateUser } from "../src/store/users";
import {
  type FakeSeerr,
  loadSeerrSpec,
  SEERR_PERMISSIONS,
  seerrMovie,
  seerrShow,
  seerrUser,
  startFakeSeerr,
} from "./fakes/seerr";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-request-key";
const P = SEERR_PERMISSIONS;

let t: TestApp;
let seerr: FakeSeerr;
let alice: Browser; // Plex-linked, Seerr user 2
let bob: Browser; // local, matched by email, Seerr user 3
let admin: Browser;
const logLines: string[] = [];

beforeAll(async () => {
  const spec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: API_KEY,
    ...(spec ? { spec } : {}),
    users: [
      seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: P.ADMIN }),
      seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: P.REQUEST }),
      seerrUser({
        id: 3,
        displayName: "Bob",
        plexId: null,
        email: "bob@example.com",
        permissions: P.REQUEST | P.REQUEST_4K,
      }),
    ],
    movies: [
      seerrMovie({ id: 27205, title: "Inception" }),
      seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
      seerrMovie({ id: 680, title: "Pulp Fiction", releaseDate: "1994-09-10" }),
      seerrMovie({ id: 11, title: "Star Wars", releaseDate: "1977-05-25" }),
    ],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
    plexAccounts: [{ plexId: 7007, username: "carol", email: "carol@example.com" }],
    fourK: { movie: true, tv: false },
  });
  t = await createTestApp({ logLines });
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
  admin = await signIn(t, await givenUser(t.deps, { role: "admin", displayName: "Olivia", plexId: 9001 }));
  alice = await signIn(t, await givenUser(t.deps, { displayName: "Alice", plexId: 5002 }));
  bob = await signIn(
    t,
    await givenUser(t.deps, { displayName: "Bob", email: "Bob@Example.com", permissions: ["request", "request_4k"] }),
  );
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
});

function posted() {
  return seerr.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/request");
}

describe("requesting as the user", () => {
  test("a movie in one click goes to Seerr as the person (X-Api-User by Plex id), is stored and shown", async () => {
    const page = await (await alice.get("/title/movie/27205")).text();
    expect(page).toContain('action="/title/movie/27205/request"');
    expect(page).not.toContain("Request in 4K");
    const res = await alice.post("/title/movie/27205/request", { is4k: "0" }, { "hx-request": "true" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Requested. Its state: pending approval.");
    expect(html).toContain("Requested, pending approval");
    expect(posted().at(-1)).toMatchObject({
      headers: expect.objectContaining({ "x-api-user": "2" }),
      body: { mediaType: "movie", mediaId: 27205 },
    });
    const { items } = await listMediaRequests(t.deps.database, { userId: alice.user.id });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ title: "Inception", year: 2010, status: "pending", source: "medianest" });
    expect((await findSeerrLink(t.deps.database, alice.user.id))?.how).toBe("plex");
    const mine = await (await alice.get("/requests")).text();
    expect(mine).toContain("Inception (2010)");
    expect(mine).toContain("Pending approval");
    // The admin was told a request waits for approval.
    const told = await (await admin.get("/notifications")).text();
    expect(told).toContain("New request: Inception (2010)");
    expect(told).toContain("Alice asked for Inception (2010). It waits for approval in Seerr.");
  });

  test("a member matched by email; without JavaScript the form redirects back to the title", async () => {
    const res = await bob.post("/title/movie/603/request", { is4k: "0" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/title/movie/603?requested=pending");
    expect(posted().at(-1)!.headers["x-api-user"]).toBe("3");
    expect((await findSeerrLink(t.deps.database, bob.user.id))?.how).toBe("email");
    const back = await (await bob.get("/title/movie/603?requested=pending")).text();
    expect(back).toContain("Requested. Its state: pending approval.");
  });

  test("Seerr's answers become clear messages: 409 already requested, 202 nothing left, 403 with Seerr's text", async () => {
    const dup = await bob.post("/title/movie/27205/request", { is4k: "0" }, { "hx-request": "true" });
    expect(dup.status).toBe(409);
    const dupHtml = await dup.text();
    expect(dupHtml).toContain("Already requested: Request for this media already exists.");
    expect(dupHtml).toContain('href="/requests"');

    await alice.post("/title/tv/1396/request", { seasons: "all" }, { "hx-request": "true" });
    const area = await (await bob.get("/title/tv/1396", { "hx-request": "true" })).text();
    expect(area).toContain("Every season is requested or in Plex");
    const none = await bob.post("/title/tv/1396/request", { seasons: "all" }, { "hx-request": "true" });
    expect(none.status).toBe(409);
    expect(await none.text()).toContain("Every season is already requested or in Plex.");

    seerr.addUser(seerrUser({ id: 4, displayName: "Nope", plexId: 4004, permissions: 0 }));
    const nope = await signIn(t, await givenUser(t.deps, { plexId: 4004 }));
    const denied = await nope.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain("Seerr refused: You do not have permission to make movie requests.");
  });

  test("a show with chosen seasons; seasons already requested cannot be chosen again", async () => {
    seerr.addShow(seerrShow({ id: 4242, name: "Severance", seasonCount: 3 }));
    const made = await bob.post("/title/tv/4242/request", { seasons: ["2"] }, { "hx-request": "true" });
    expect(made.status).toBe(200);
    expect(posted().at(-1)!.body).toEqual({ mediaType: "tv", mediaId: 4242, seasons: [2] });
    const area = await (await alice.get("/title/tv/4242")).text();
    expect(area).toMatch(/value="2" disabled/);
    expect(area).toMatch(/value="1"\/?>/);
    const again = await alice.post("/title/tv/4242/request", { seasons: ["2"] }, { "hx-request": "true" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("Season 2 is already requested or in Plex.");
    const bad = await alice.post("/title/tv/4242/request", { seasons: ["9"] }, { "hx-request": "true" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("This show has no season 9.");
    const junk = await alice.post("/title/tv/4242/request", { seasons: ["x"] }, { "hx-request": "true" });
    expect(junk.status).toBe(422);
    const empty = await alice.post("/title/tv/4242/request", {}, { "hx-request": "true" });
    expect(empty.status).toBe(422);
  });

  test("4K only for people who may and where Seerr has a 4K server", async () => {
    const page = await (await bob.get("/title/movie/11")).text();
    expect(page).toContain("Request in 4K");
    const made = await bob.post("/title/movie/11/request", { is4k: "1" }, { "hx-request": "true" });
    expect(made.status).toBe(200);
    expect(posted().at(-1)!.body).toEqual({ mediaType: "movie", mediaId: 11, is4k: true });
    const refused = await alice.post("/title/movie/11/request", { is4k: "1" }, { "hx-request": "true" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("You may not request in 4K.");
    const noServer = await bob.post("/title/tv/1396/request", { seasons: "all", is4k: "1" }, { "hx-request": "true" });
    expect(noServer.status).toBe(422);
    expect(await noServer.text()).toContain("Seerr has no 4K server for this");
  });

  test("MediaNest's own permission and weekly quota come first, before Seerr is asked", async () => {
    const before = posted().length;
    const viewer = await signIn(t, await givenUser(t.deps, { plexId: 5555, permissions: [] }));
    const page = await (await viewer.get("/title/movie/680")).text();
    expect(page).toContain("You may not request movies and shows.");
    const res = await viewer.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(res.status).toBe(403);
    await updateUser(t.deps.database, alice.user.id, { requestsPerWeek: 2 });
    const over = await alice.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(over.status).toBe(429);
    expect(await over.text()).toContain("You have used your 2 requests this week.");
    expect(posted().length).toBe(before);
    await updateUser(t.deps.database, alice.user.id, { requestsPerWeek: null });
  });

  test("no Seerr account: a clear message, or an import from Plex when the admin allows it", async () => {
    const carol = await signIn(t, await givenUser(t.deps, { displayName: "Carol", plexId: 7007 }));
    const refused = await carol.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("You have no Seerr account yet. Ask the admin");
    await setImportAllowed(t.deps, true);
    const made = await carol.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(made.status).toBe(200);
    const imported = seerr.requests.filter((r) => r.path === "/api/v1/user/import-from-plex");
    expect(imported.at(-1)!.body).toEqual({ plexIds: ["7007"] });
    expect((await findSeerrLink(t.deps.database, carol.user.id))?.how).toBe("imported");
  });

  test("cancel while pending (deleted in Seerr as the requester); not once approved; not someone else's", async () => {
    const { items } = await listMediaRequests(t.deps.database, { userId: bob.user.id });
    const matrix = items.find((r) => r.tmdbId === 603)!;
    expect((await alice.post(`/requests/${matrix.id}/cancel`)).status).toBe(404);
    const res = await bob.post(`/requests/${matrix.id}/cancel`);
    expect(res.status).toBe(303);
    expect(seerr.requests.at(-1)).toMatchObject({ method: "DELETE", path: `/api/v1/request/${matrix.seerrRequestId}` });
    const list = await (await bob.get("/requests?cancelled=1")).text();
    expect(list).toContain("Request cancelled.");
    expect(list).toMatch(/data-state="cancelled"/);
    expect((await bob.post(`/requests/${matrix.id}/cancel`)).status).toBe(409);
  });

  test("Seerr down while requesting: a readable message, nothing stored", async () => {
    const before = (await listMediaRequests(t.deps.database, {})).total;
    seerr.addMovie(seerrMovie({ id: 12, title: "Finding Nemo", releaseDate: "2003-05-30" }));
    await alice.get("/title/movie/12");
    seerr.failNext(500);
    const res = await alice.post("/title/movie/12/request", { is4k: "0" }, { "hx-request": "true" });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain(
      "Seerr could not make the request: Seerr refused the request (status 500): Fake Seerr fault 500",
    );
    expect((await listMediaRequests(t.deps.database, {})).total).toBe(before);
  });
});

describe("request quotas per day and per week", () => {
  const HOUR = 3_600_000;
  let seq = 90_000;
  async function storedRequest(userId: string, hoursAgo: number, status: MediaRequestState = "approved") {
    const at = new Date(Date.now() - hoursAgo * HOUR);
    await insertMediaRequest(t.deps.database, {
      id: crypto.randomUUID(),
      userId,
      seerrServer: "quota-test",
      seerrRequestId: seq++,
      mediaType: "movie",
      tmdbId: seq,
      title: `Film ${seq}`,
      seasons: [],
      is4k: false,
      status,
      source: "medianest",
      createdAt: at,
      updatedAt: at,
    });
  }

  test("the day quota counts the stored requests of the last 24 hours; the week quota the last 7 days", async () => {
    const u = await givenUser(t.deps, { requestsPerDay: 2, requestsPerWeek: 4 });
    await storedRequest(u.id, 50);
    await storedRequest(u.id, 49);
    await storedRequest(u.id, 30, "declined"); // declined ones do not count
    await storedRequest(u.id, 3);
    const now = new Date();
    expect(await checkQuota(t.deps, (await findUserById(t.deps.database, u.id))!, now)).toBeUndefined();
    await storedRequest(u.id, 1);
    // Four in the week (the week is used up too) and two today: the week frees up last, so it is named.
    const both = await checkQuota(t.deps, (await findUserById(t.deps.database, u.id))!, now);
    expect(both?.status).toBe(429);
    expect(both?.message).toContain("You have used your 4 requests this week.");
    await updateUser(t.deps.database, u.id, { requestsPerWeek: null });
    const day = await checkQuota(t.deps, (await findUserById(t.deps.database, u.id))!, now);
    expect(day?.message).toContain("You have used your 2 requests today.");
    // It frees up 24 hours after the older of the two requests today.
    const frees = new Date(/frees up (.+)\.$/.exec(day!.message)![1]!).getTime();
    expect(Math.abs(frees - (now.getTime() - 3 * HOUR + 24 * HOUR))).toBeLessThan(2000);
    // Requests older than a day do not count against the day.
    await updateUser(t.deps.database, u.id, { requestsPerDay: 3 });
    expect(await checkQuota(t.deps, (await findUserById(t.deps.database, u.id))!, now)).toBeUndefined();
    await updateUser(t.deps.database, u.id, { requestsPerDay: 0 });
    expect((await checkQuota(t.deps, (await findUserById(t.deps.database, u.id))!, now))?.message).toContain(
      "Your request quota is 0",
    );
  });

  test("requesting past the day quota is refused before Seerr is asked", async () => {
    const before = posted().length;
    await updateUser(t.deps.database, alice.user.id, { requestsPerDay: 1 });
    const over = await alice.post("/title/movie/680/request", { is4k: "0" }, { "hx-request": "true" });
    expect(over.status).toBe(429);
    expect(await over.text()).toContain("You have used your 1 request today.");
    expect(posted().length).toBe(before);
    await updateUser(t.deps.database, alice.user.id, { requestsPerDay: null });
  });

  test("the admin sets the day quota on the user page and in the defaults; /api/v1/me shows it", async () => {
    const u = await givenUser(t.deps, { displayName: "Quota Quinn" });
    const page = await (await admin.get(`/admin/users/${u.id}`)).text();
    expect(page).toContain('name="requestsPerDay"');
    expect(page).toContain("Requests per day");
    const bad = await admin.post(`/admin/users/${u.id}`, { role: "user", requestsPerDay: "-1" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Requests per day must be a number of 0 or more");
    const ok = await admin.post(`/admin/users/${u.id}`, {
      role: "user",
      permissions: ["request"],
      requestsPerDay: "3",
      requestsPerWeek: "10",
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/name="requestsPerDay"[^>]*value="3"|value="3"[^>]*name="requestsPerDay"/);
    const after = (await findUserById(t.deps.database, u.id))!;
    expect(after.requestsPerDay).toBe(3);
    expect(after.requestsPerWeek).toBe(10);
    const member = await signIn(t, after);
    const me = (await (await member.get("/api/v1/me")).json()) as { quotas: Record<string, unknown> };
    expect(me.quotas).toMatchObject({ requestsPerDay: 3, requestsPerWeek: 10 });

    const defaults = await admin.post("/admin/settings/accounts", { permissions: ["request"], requestsPerDay: "2" });
    expect(defaults.status).toBe(303);
    expect(await (await admin.get("/admin/settings/accounts")).text()).toMatch(
      /name="requestsPerDay"[^>]*value="2"|value="2"[^>]*name="requestsPerDay"/,
    );
    await admin.post("/admin/settings/accounts", { permissions: ["request"], autoCreate: "1" });
  });
});

describe("your requests on the dashboard", () => {
  test("the dashboard loads the block itself; it shows the newest requests with state and poster, linking on", async () => {
    const home = await (await alice.get("/")).text();
    expect(home).toContain("Your requests");
    expect(home).toContain('hx-get="/requests?part=dashboard"');
    expect(home).toContain('hx-trigger="load, mn-requests from:#live"');
    // The dashboard itself lists nothing: the block is a fragment of its own.
    expect(home).not.toContain("Inception (2010)");

    const { items } = await listMediaRequests(t.deps.database, { userId: alice.user.id, limit: 6 });
    const res = await alice.get("/requests?part=dashboard", { "hx-request": "true" });
    expect(res.status).toBe(200);
    const html = await res.text();
    const cards = [...html.matchAll(/<li class="media-card" data-state="([a-z_]+)">([\s\S]*?)<\/li>/g)];
    expect(cards.map((m) => m[1])).toEqual(items.map((r) => r.status));
    const inception = cards.find((m) => m[2]!.includes("Inception (2010)"))!;
    expect(inception[2]).toContain('href="/title/movie/27205"');
    expect(inception[2]).toContain('class="media-badge media-badge-pending">Pending approval<');
    expect(inception[2]).toMatch(/<img src="\/img\/tmdb\?[^"]+"/);
    expect(html).toContain('<a href="/requests">All your requests</a>');
    // Only their own.
    expect(html).not.toContain("The Matrix");
  });

  test("none yet: an empty state pointing to Discover; no request permission: no block", async () => {
    const fresh = await signIn(t, await givenUser(t.deps, { plexId: 6006 }));
    const empty = await (await fresh.get("/requests?part=dashboard", { "hx-request": "true" })).text();
    expect(empty).toContain("No requests yet");
    expect(empty).toContain('href="/discover"');
    const viewer = await signIn(t, await givenUser(t.deps, { plexId: 6007, permissions: [] }));
    expect(await (await viewer.get("/")).text()).not.toContain('hx-get="/requests?part=dashboard"');
  });
});

describe("the list of your requests", () => {
  test("each row escapes what it shows; a pending one carries the cancel form, a declined one its reason", async () => {
    const user = await givenUser(t.deps, { displayName: "Dora" });
    const dora = await signIn(t, user);
    const at = new Date();
    const stored = async (title: string, status: MediaRequestState, declineReason: string | null = null) => {
      const id = crypto.randomUUID();
      await insertMediaRequest(t.deps.database, {
        id,
        userId: user.id,
        seerrServer: "rows-test",
        seerrRequestId: Math.floor(Math.random() * 1e9),
        mediaType: "movie",
        tmdbId: 4242,
        title,
        year: 2001,
        seasons: [],
        is4k: true,
        status,
        declineReason,
        source: "medianest",
        createdAt: at,
        updatedAt: at,
      });
      return id;
    };
    const pending = await stored(`Tom's "<b>Film</b>" & co`, "pending");
    const declined = await stored("Another", "declined", `Not <i>now</i>, "sorry"`);
    const html = await (await dora.get("/requests")).text();
    expect(html).toContain(
      `<li id="r-${pending}" data-state="pending"><div><a href="/title/movie/4242"><strong>Tom&#39;s &quot;&lt;b&gt;Film&lt;/b&gt;&quot; &amp; co (2001)</strong></a>`,
    );
    expect(html).toContain('<div class="hint">Movie · 4K · asked ');
    expect(html).toMatch(
      new RegExp(
        `<form method="post" action="/requests/${pending}/cancel"><input type="hidden" name="_csrf" value="[^"]+"/><button class="btn btn-small btn-danger" type="submit">Cancel</button></form></li>`,
      ),
    );
    expect(html).toContain(`<li id="r-${declined}" data-state="declined">`);
    expect(html).toContain('<div class="hint">Reason: Not &lt;i&gt;now&lt;/i&gt;, &quot;sorry&quot;</div>');
    expect(html).not.toContain(`/requests/${declined}/cancel`);
    expect(html).not.toContain("<b>Film</b>");
  });

  test("25 a page, newest first, with a pager; page 2 holds the older ones; another person's never show or count", async () => {
    const erin = await givenUser(t.deps, { displayName: "Erin" });
    const frank = await givenUser(t.deps, { displayName: "Frank" });
    const base = Date.UTC(2026, 0, 1);
    for (const [user, n] of [
      [erin, 30],
      [frank, 3],
    ] as const)
      for (let i = 0; i < n; i++) {
        const at = new Date(base + i * 60_000);
        await insertMediaRequest(t.deps.database, {
          id: crypto.randomUUID(),
          userId: user.id,
          seerrServer: "pages-test",
          seerrRequestId: Math.floor(Math.random() * 1e9),
          mediaType: "movie",
          tmdbId: 70000 + i,
          title: `${user.displayName} film ${i}`,
          seasons: [],
          is4k: false,
          status: "pending",
          source: "medianest",
          createdAt: at,
          updatedAt: at,
        });
      }
    const browser = await signIn(t, erin);
    const titles = (html: string) => [...html.matchAll(/<strong>([^<]+)<\/strong>/g)].map((m) => m[1]);
    const first = await (await browser.get("/requests")).text();
    expect(titles(first)).toEqual(Array.from({ length: 25 }, (_, i) => `Erin film ${29 - i}`));
    expect(first).toContain("30 requests · page 1 of 2");
    expect(first).toContain('href="/requests?page=2"');
    expect(first).toContain('hx-get="/requests"');
    const second = await (await browser.get("/requests?page=2")).text();
    expect(titles(second)).toEqual(["Erin film 4", "Erin film 3", "Erin film 2", "Erin film 1", "Erin film 0"]);
    expect(second).toContain("30 requests · page 2 of 2");
    expect(second).toContain('hx-get="/requests?page=2"');
    expect(second).toContain('href="/requests"');
    expect(second).not.toContain("Frank film");
    const beyond = await browser.get("/requests?page=9");
    expect(beyond.status).toBe(200);
    const past = await beyond.text();
    expect(titles(past)).toEqual([]);
    expect(past).toContain('href="/requests?page=8"');
    expect(await (await browser.get("/requests?page=-1")).text()).toContain("page 1 of 2");
  });
});
