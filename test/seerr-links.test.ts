// The admin's view of which Seerr user a MediaNest user is: shown on the user page with how it was found, set by
// hand from Seerr's user list or cleared; a hand-set link survives automatic matching and the sync job.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { syncRequests } from "../src/services/request-sync";
import { listAuditEntries } from "../src/store/audit";
import { findSeerrLink, listMediaRequests } from "../src/store/media-requests";
import { type FakeSeerr, loadSeerrSpec, SEERR_PERMISSIONS, seerrMovie, seerrUser, startFakeSeerr } from "./fakes/seerr";
import { type Browser, createTestApp, givenUser, ORIGIN, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-links-key";
const P = SEERR_PERMISSIONS;

let t: TestApp;
let seerr: FakeSeerr;
let admin: Browser;
let alice: Browser; // Plex 5002, Seerr user 2 by Plex id
let bob: Browser; // Plex 5003; Seerr knows him as user 3, but the admin links him to user 4 ("Bob's TV")

beforeAll(async () => {
  const spec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: API_KEY,
    ...(spec ? { spec } : {}),
    users: [
      seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: P.ADMIN }),
      seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: P.REQUEST }),
      seerrUser({ id: 3, displayName: "Bob", plexId: 5003, permissions: P.REQUEST }),
      seerrUser({ id: 4, displayName: "Bob's TV", plexId: null, email: "tv@example.com", permissions: P.REQUEST }),
    ],
    movies: [
      seerrMovie({ id: 27205, title: "Inception" }),
      seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
      seerrMovie({ id: 680, title: "Pulp Fiction", releaseDate: "1994-09-10" }),
    ],
  });
  t = await createTestApp({ logLines: [] });
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
  admin = await signIn(t, await givenUser(t.deps, { role: "admin", displayName: "Olivia", plexId: 9001 }));
  alice = await signIn(t, await givenUser(t.deps, { displayName: "Alice", plexId: 5002 }));
  bob = await signIn(t, await givenUser(t.deps, { displayName: "Bob", plexId: 5003 }));
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
});

const card = (b: Browser, userId: string) => b.get(`/admin/users/${userId}/seerr`, { "hx-request": "true" });
const setLink = (b: Browser, userId: string, form: Record<string, string>) =>
  b.post(`/admin/users/${userId}/seerr`, form, { "hx-request": "true" });

describe("the Seerr link on the admin's user page", () => {
  test("the user page shows the stored link and how it was found, without asking Seerr", async () => {
    const before = seerr.requests.length;
    const none = await (await admin.get(`/admin/users/${alice.user.id}`)).text();
    expect(none).toContain("Not linked to a Seerr user yet.");
    expect(none).toContain(`hx-get="/admin/users/${alice.user.id}/seerr"`);
    expect(seerr.requests.length).toBe(before);

    expect((await alice.post("/title/movie/27205/request", { is4k: "0" }, { "hx-request": "true" })).status).toBe(200);
    const page = await (await admin.get(`/admin/users/${alice.user.id}`)).text();
    expect(page).toContain('data-seerr-user="2" data-how="plex"');
    expect(page).toContain("Requests go to Seerr as <strong>Alice</strong> (Seerr user 2), matched by Plex account");
  });

  test("the card lists Seerr's users to choose from; the admin links a user by hand and requests follow it", async () => {
    const res = await card(admin, bob.user.id);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<div class="card" id="seerr-link"')).toBe(true);
    expect(html).toContain('<option value="4">Bob&#39;s TV (user 4, tv@example.com)</option>');
    expect(html).toContain('<option value="3">Bob (user 3, bob@example.com, Plex)</option>');

    const saved = await setLink(admin, bob.user.id, { op: "set", seerrUserId: "4" });
    expect(saved.status).toBe(200);
    const after = await saved.text();
    expect(after).toContain("Linked by hand to Seerr user Bob&#39;s TV.");
    expect(after).toContain('data-seerr-user="4" data-how="manual"');
    expect(after).toContain("set by hand by an administrator");
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toMatchObject({ seerrUserId: 4, how: "manual" });

    // Bob's next request goes to Seerr as user 4, although Seerr knows his Plex account as user 3.
    expect((await bob.post("/title/movie/603/request", { is4k: "0" }, { "hx-request": "true" })).status).toBe(200);
    const sent = seerr.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/request").at(-1)!;
    expect(sent.headers["x-api-user"]).toBe("4");

    const { entries } = await listAuditEntries(t.deps.database, { action: "user.seerr_link" });
    expect(entries[0]?.detail).toMatchObject({ seerrUserId: 4, seerrName: "Bob's TV" });
    expect(await (await admin.get("/admin/audit?action=user.seerr_link")).text()).toContain(
      "Seerr account linked by hand",
    );
  });

  test("a hand-set link survives the sync job and requests made in Seerr by the Plex-matched account", async () => {
    // Someone uses Bob's Plex-matched Seerr account (user 3) in Seerr's own UI: the request is Bob's, the link stays.
    seerr.addRequest({ type: "movie", tmdbId: 680, userId: 3 });
    const report = await syncRequests(t.deps);
    expect(report?.linksDropped).toBe(0);
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toMatchObject({ seerrUserId: 4, how: "manual" });
    const bobs = (await listMediaRequests(t.deps.database, { userId: bob.user.id })).items.map((r) => r.tmdbId);
    expect(bobs).toContain(680);
    // Another MediaNest user whose email matches user 4 cannot take the hand-set link over automatically.
    const tv = await signIn(t, await givenUser(t.deps, { displayName: "TV", email: "tv@example.com" }));
    const refused = await tv.post("/title/movie/27205/request", { is4k: "0" }, { "hx-request": "true" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("is linked by hand to another MediaNest account");
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toMatchObject({ seerrUserId: 4 });
  });

  test("bad input is a 422 naming the field: no choice, nonsense, a Seerr user that does not exist, one taken by hand", async () => {
    for (const form of <Record<string, string>[]>[
      { op: "set" },
      { op: "set", seerrUserId: "abc" },
      { op: "set", seerrUserId: "-2" },
    ]) {
      const res = await setLink(admin, alice.user.id, form);
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain('aria-invalid="true"');
      expect(html).toContain("Choose a Seerr user from the list.");
    }
    const unknown = await setLink(admin, alice.user.id, { op: "set", seerrUserId: "999" });
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain("Seerr has no user 999.");
    const taken = await setLink(admin, alice.user.id, { op: "set", seerrUserId: "4" });
    expect(taken.status).toBe(422);
    expect(await taken.text()).toContain(
      "Seerr user Bob&#39;s TV is already linked by hand to Bob. Clear that link first.",
    );
    expect((await setLink(admin, alice.user.id, { op: "nuke" })).status).toBe(422);
    expect(await findSeerrLink(t.deps.database, alice.user.id)).toMatchObject({ seerrUserId: 2, how: "plex" });
    expect((await setLink(admin, crypto.randomUUID(), { op: "set", seerrUserId: "2" })).status).toBe(404);
  });

  test("Seerr down: the card and the form say so in words, never a 500; the stored link still shows", async () => {
    seerr.failNext(500);
    const res = await card(admin, bob.user.id);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Seerr&#39;s user list could not be read: Seerr refused the request (status 500)");
    expect(html).toContain('data-seerr-user="4" data-how="manual"');
    seerr.failNext("html");
    const post = await setLink(admin, alice.user.id, { op: "set", seerrUserId: "3" });
    expect(post.status).toBe(502);
    expect(await post.text()).toContain("Seerr could not be asked:");
    expect(await findSeerrLink(t.deps.database, alice.user.id)).toMatchObject({ seerrUserId: 2 });
  });

  test("only admins, with the CSRF token: members get 403, a forged post changes nothing", async () => {
    expect((await card(alice, bob.user.id)).status).toBe(403);
    expect((await setLink(alice, alice.user.id, { op: "set", seerrUserId: "4" })).status).toBe(403);
    const forged = await t.request(`/admin/users/${bob.user.id}/seerr`, {
      method: "POST",
      headers: { cookie: admin.cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: "op=clear",
    });
    expect(forged.status).toBe(403);
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toMatchObject({ seerrUserId: 4 });
  });

  test("clearing the link: the next request finds the person automatically again; without JavaScript it redirects", async () => {
    const res = await admin.post(`/admin/users/${bob.user.id}/seerr`, { op: "clear" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/admin/users/${bob.user.id}/seerr?saved=1`);
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toBeUndefined();
    const page = await (await admin.get(`/admin/users/${bob.user.id}/seerr?saved=1`)).text();
    expect(page).toContain("Saved.");
    expect(page).toContain(`href="/admin/users/${bob.user.id}"`);
    expect(page).toContain("Not linked to a Seerr user yet.");
    seerr.addMovie(seerrMovie({ id: 12, title: "Finding Nemo", releaseDate: "2003-05-30" }));
    expect((await bob.post("/title/movie/12/request", { is4k: "0" }, { "hx-request": "true" })).status).toBe(200);
    expect(await findSeerrLink(t.deps.database, bob.user.id)).toMatchObject({ seerrUserId: 3, how: "plex" });
  });
});
