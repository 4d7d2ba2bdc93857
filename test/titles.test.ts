import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { savePlexIntegration, saveSeerrIntegration } from "../src/services/integrations";
import { forgetTitle } from "../src/services/titles";
import { type FakeSeerr, loadSeerrSpec, seerrMovie, seerrShow, seerrUser, startFakeSeerr } from "./fakes/seerr";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-title-key";
const MACHINE = "abcdef0123456789machine";

let t: TestApp;
let seerr: FakeSeerr;
let member: Browser;

beforeAll(async () => {
  const spec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: API_KEY,
    ...(spec ? { spec } : {}),
    users: [seerrUser({ id: 1, displayName: "owner", permissions: 2 }), seerrUser({ id: 2, displayName: "Alice" })],
    movies: [seerrMovie({ id: 27205, title: "Inception" }), seerrMovie({ id: 11, title: "Star Wars", runtime: 0 })],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
  });
  t = await createTestApp();
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
  await savePlexIntegration(t.deps, { url: "http://plex.invalid:32400", token: "t", machineIdentifier: MACHINE });
  await givenUser(t.deps, { role: "admin" });
  member = await signIn(t, await givenUser(t.deps));
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
});

describe("title pages", () => {
  test("a movie: backdrop, poster, year, runtime, genres, overview and cast; images through the proxy", async () => {
    const res = await member.get("/title/movie/27205");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("<title>Inception · MediaNest</title>");
    expect(html).toContain("Movie · 2010 · 2 h 28 min");
    expect(html).toContain('<span class="pill">Action</span>');
    expect(html).toContain("A thief who steals corporate secrets through dream-sharing.");
    expect(html).toContain("Your mind is the scene of the crime.");
    expect(html).toContain('<strong>Leonardo DiCaprio</strong><span class="hint"> as Cobb</span>');
    expect(html).toMatch(/class="title-backdrop" src="\/img\/tmdb\?p=%2Fbackdrop27205\.jpg&amp;w=w1280&amp;s=/);
    expect(html).toMatch(/class="title-poster" src="\/img\/tmdb\?p=%2Fposter27205\.jpg&amp;w=w500/);
    expect(html).not.toContain("Watch in Plex");
    expect(html).toContain('<a href="/discover" aria-current="page">Discover</a>');
  });

  test("'Watch in Plex' links to the item on our server once Plex has it", async () => {
    seerr.setAvailability("movie", 27205, 5);
    await forgetTitle(t.deps, "movie", 27205);
    const html = await (await member.get("/title/movie/27205")).text();
    expect(html).toMatch(/data-badge="available"/);
    const link = /href="(https:\/\/app\.plex\.tv\/desktop\/[^"]+)"[^>]*>\s*Watch in Plex/.exec(html)?.[1];
    expect(link).toMatch(
      new RegExp(`^https://app\\.plex\\.tv/desktop/#!/server/${MACHINE}/details\\?key=%2Flibrary%2Fmetadata%2F\\d+$`),
    );
  });

  test("a show lists every season (no specials) with its own availability or request state", async () => {
    seerr.setAvailability("tv", 1396, 4, undefined, { 1: 5 });
    seerr.addRequest({ type: "tv", tmdbId: 1396, userId: 2, seasons: [2] });
    const html = await (await member.get("/title/tv/1396")).text();
    expect(html).toContain("Show · 2008 · 45 min episodes");
    const seasons = [...html.matchAll(/<li data-season="(\d+)">([\s\S]*?)<\/li>/g)].map((m) => [m[1], m[2]]);
    expect(seasons.map((s) => s[0])).toEqual(["1", "2", "3"]);
    expect(seasons[0]![1]).toContain('data-badge="available"');
    expect(seasons[1]![1]).toContain('data-badge="pending"');
    expect(seasons[2]![1]).toContain("Not in Plex");
    expect(html).toContain("Watch in Plex");
  });

  test("an id that is no TMDB id is 422 naming it; one Seerr does not know is a 404 page", async () => {
    for (const id of ["abc", "0", "-5", "1.5", "99999999999", "27205x"]) {
      const res = await member.get(`/title/movie/${id}`);
      expect(res.status).toBe(422);
      expect(await res.text()).toContain("id: a TMDB id is a whole number");
    }
    const unknown = await member.get("/title/tv/424242");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("Seerr knows no title with this TMDB id.");
    expect((await member.get("/title/person/1")).status).toBe(404);
  });

  test("Seerr down: a 502 page that says why; unknown status numbers read as unknown", async () => {
    seerr.failNext(503);
    const down = await member.get("/title/movie/11");
    expect(down.status).toBe(502);
    expect(await down.text()).toContain("Seerr refused the request (status 503)");
    await forgetTitle(t.deps, "movie", 11);
    seerr.setAvailability("movie", 11, 77, 88);
    await forgetTitle(t.deps, "movie", 11);
    const odd = await member.get("/title/movie/11");
    expect(odd.status).toBe(200);
    const html = await odd.text();
    expect(html).not.toContain("data-badge");
    // A runtime of 0 is no runtime.
    expect(html).toContain("Movie · 2010<");
  });
});
