import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { removeIntegration } from "../src/services/integrations";
import { type FakeSeerr, loadSeerrSpec, seerrMovie, seerrShow, startFakeSeerr } from "./fakes/seerr";
import { FAKE_JPEG, type FakeTmdbImages, startFakeTmdbImages } from "./fakes/tmdb-images";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-discover-key";

let t: TestApp;
let seerr: FakeSeerr;
let tmdb: FakeTmdbImages;
let member: Browser;
let admin: Browser;
const logLines: string[] = [];

// 25 popular movies: two pages of discover results (Seerr pages by 20).
const manyMovies = Array.from({ length: 25 }, (_, i) =>
  seerrMovie({ id: 5000 + i, title: `Film ${i}`, popularity: 100 - i, releaseDate: "2019-05-01" }),
);

beforeAll(async () => {
  const spec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: API_KEY,
    ...(spec ? { spec } : {}),
    movies: [
      seerrMovie({ id: 157336, title: "Interstellar", releaseDate: "2014-11-05", popularity: 500 }),
      seerrMovie({ id: 900001, title: "Dune: Part Three", releaseDate: "2026-12-18", popularity: 300 }),
      ...manyMovies,
    ],
    shows: [
      seerrShow({ id: 1396, name: "Breaking Bad", popularity: 400 }),
      seerrShow({ id: 900002, name: "The Next Show", firstAirDate: "2026-09-01", popularity: 50 }),
    ],
  });
  seerr.setAvailability("movie", 157336, 5);
  seerr.setAvailability("tv", 1396, 4);
  tmdb = startFakeTmdbImages();
  t = await createTestApp({ env: { MEDIANEST_TMDB_IMAGE_URL: tmdb.url }, logLines });
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
  member = await signIn(t, await givenUser(t.deps));
  admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
  await tmdb.stop();
});

function seerrCalls(path: string): number {
  return seerr.requests.filter((r) => r.path === `/api/v1${path}`).length;
}

function imageUrls(html: string): string[] {
  return [...html.matchAll(/<img[^>]* src="([^"]+)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
}

describe("discover", () => {
  test("the page answers at once; rows not cached yet load themselves from their own address", async () => {
    const before = seerr.requests.length;
    const res = await member.get("/discover");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(seerr.requests.length).toBe(before);
    for (const id of ["trending", "movies", "tv", "upcoming-movies", "upcoming-tv"])
      expect(html).toContain(
        id === "trending" ? `hx-get="/discover/trending/row?hero=1"` : `hx-get="/discover/${id}/row"`,
      );
    expect(html).toContain('<a href="/discover" aria-current="page">Discover</a>');
  });

  test("a row shows posters through the signed proxy with availability badges; people are left out", async () => {
    const res = await member.get("/discover/trending/row", { "hx-request": "true" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('href="/title/movie/157336"');
    expect(html).toContain('href="/title/tv/1396"');
    expect(html).not.toContain("DiCaprio");
    expect(html).toMatch(/href="\/title\/movie\/157336"[\s\S]*?data-badge="available"/);
    expect(html).toMatch(/href="\/title\/tv\/1396"[\s\S]*?data-badge="partial"[^>]*>Partly available/);
    const urls = imageUrls(html);
    expect(urls.length).toBeGreaterThan(3);
    for (const u of urls) expect(u.startsWith("/img/tmdb?")).toBe(true);
    expect(html).not.toContain("image.tmdb.org");
    // The discover page asks for trending with the title shown over its backdrop.
    const top = await (await member.get("/discover/trending/row?hero=1", { "hx-request": "true" })).text();
    expect(top.startsWith('<div id="discover-top">')).toBe(true);
    expect(top).toContain('class="media-hero-backdrop"');
    expect(top).toContain('id="row-trending"');
  });

  test("once cached, the page shows the rows and a trending backdrop without asking Seerr again", async () => {
    for (const id of ["movies", "tv", "upcoming-movies", "upcoming-tv"]) await member.get(`/discover/${id}/row`);
    const calls = seerr.requests.length;
    const html = await (await member.get("/discover")).text();
    expect(seerr.requests.length).toBe(calls);
    expect(html).not.toContain('hx-get="/discover/trending/row');
    expect(html).toContain('class="media-hero-backdrop"');
    expect(html).toContain("Interstellar");
    // Upcoming lists hold only what is not out yet.
    const upcoming = html.slice(html.indexOf('id="row-upcoming-movies"'), html.indexOf('id="row-upcoming-tv"'));
    expect(upcoming).toContain("Dune: Part Three");
    expect(upcoming).not.toContain("Interstellar");
  });

  test("a list pages with infinite scrolling: htmx gets the next cards and the next loader, plain links work", async () => {
    const first = await (await member.get("/discover/movies")).text();
    expect(first).toContain('<ul class="media-grid">');
    expect(first).toContain('hx-get="/discover/movies?page=2"');
    expect(first).toContain('hx-trigger="revealed"');
    expect(first).toContain('href="/discover/movies?page=2"');
    const more = await member.get("/discover/movies?page=2", { "hx-request": "true", "hx-target": "li" });
    const fragment = await more.text();
    expect(fragment.startsWith("<li")).toBe(true);
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain("Film 24");
    expect(fragment).not.toContain("?page=3");
    const plain = await (await member.get("/discover/movies?page=2")).text();
    expect(plain).toContain("<html");
    expect(plain).toContain('href="/discover/movies"');
  });

  test("a bad page number is 422 naming the field; an unknown list is 404", async () => {
    for (const page of ["0", "abc", "501", "1e3", "-1"]) {
      const res = await member.get(`/discover/movies?page=${page}`);
      expect(res.status).toBe(422);
      expect(await res.text()).toContain("page:");
    }
    expect((await member.get("/discover/nonsense")).status).toBe(404);
    expect((await member.get("/discover/nonsense/row")).status).toBe(404);
  });

  test("the dashboard carries the trending row", async () => {
    const html = await (await member.get("/")).text();
    expect(html).toContain('id="row-trending"');
    expect(html).toContain('href="/title/movie/157336"');
  });

  test("Seerr down: the row says why, the rest of the page renders, and the error is counted", async () => {
    await t.deps.coordination.cache.delete(`seerr:${await cacheId()}:discover:tv:2`);
    seerr.failNext(500);
    const res = await member.get("/discover/tv?page=2");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Seerr refused the request (status 500)");
    expect(html).toContain('<a href="/discover">All lists</a>');
    const metrics = await t.deps.metrics.registry.getSingleMetricAsString("medianest_integration_errors_total");
    expect(metrics).toMatch(/service="seerr",kind="refused"} [1-9]/);
    // An htmx page load that fails puts the reason where the cards would go, with a way to try again.
    await t.deps.coordination.cache.delete(`seerr:${await cacheId()}:discover:tv:3`);
    seerr.failNext("html");
    const more = await (await member.get("/discover/tv?page=3", { "hx-request": "true" })).text();
    expect(more).toContain('<li class="media-more">');
    expect(more).toContain("Seerr answered something that is not JSON");
  });

  test("an unknown media status number from Seerr reads as no badge, not a crash", async () => {
    seerr.setAvailability("movie", 5001, 42);
    await t.deps.coordination.cache.delete(`seerr:${await cacheId()}:discover:movies:1`);
    const res = await member.get("/discover/movies");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/href="\/title\/movie\/5001"/);
    const card = html.slice(
      html.indexOf('href="/title/movie/5001"'),
      html.indexOf("</li>", html.indexOf('href="/title/movie/5001"')),
    );
    expect(card).not.toContain("data-badge");
  });
});

async function cacheId(): Promise<string> {
  const { configuredSeerr } = await import("../src/services/seerr");
  return (await configuredSeerr(t.deps))!.cacheId;
}

describe("TMDB images through the proxy", () => {
  async function posterUrl(): Promise<string> {
    const html = await (await member.get("/discover/trending/row", { "hx-request": "true" })).text();
    return imageUrls(html)[0]!;
  }

  test("a signed URL answers the image from TMDB and then from the cache", async () => {
    const url = await posterUrl();
    const before = tmdb.requests.length;
    const res = await member.get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(FAKE_JPEG);
    expect(tmdb.requests.length).toBe(before + 1);
    expect(tmdb.requests.at(-1)!.path).toMatch(/^\/t\/p\/w342\/poster\d+\.jpg$/);
    await member.get(url);
    expect(tmdb.requests.length).toBe(before + 1);
  });

  test("refuses unsigned, re-sized and foreign paths; a missing image is 404, TMDB down is 502", async () => {
    const url = new URL(await posterUrl(), "http://x");
    const tampered = new URLSearchParams(url.search);
    tampered.set("w", "w500");
    expect((await member.get(`/img/tmdb?${tampered}`)).status).toBe(403);
    const foreign = new URLSearchParams(url.search);
    foreign.set("p", "https://evil.example/x.jpg");
    expect((await member.get(`/img/tmdb?${foreign}`)).status).toBe(400);
    expect((await member.get("/img/tmdb?p=/../../etc/passwd&w=w342&s=x")).status).toBe(400);
    expect((await t.request(url.pathname + url.search)).status).toBe(303);

    const { imageProxyKey, signedTmdbImageUrl } = await import("../src/services/image-proxy");
    const key = imageProxyKey(t.deps);
    expect((await member.get(signedTmdbImageUrl(key, "/missing1.jpg", "w185")!)).status).toBe(404);
    tmdb.failNext(503);
    const down = await member.get(signedTmdbImageUrl(key, "/other.jpg", "w185")!);
    expect(down.status).toBe(502);
    expect(await down.text()).toContain("TMDB refused the request (status 503)");
    expect(logLines.some((l) => l.includes("TMDB image failed"))).toBe(true);
  });
});

describe("without Seerr", () => {
  test("members are told to ask the owner, admins where to connect it; a member's dashboard leaves the row out", async () => {
    await removeIntegration(t.deps, "seerr");
    try {
      const mine = await (await member.get("/discover")).text();
      expect(mine).toContain("Ask the owner to connect one.");
      const theirs = await (await admin.get("/discover/trending")).text();
      expect(theirs).toContain('<a href="/admin/integrations">Connect Seerr</a>');
      expect(await (await member.get("/")).text()).not.toContain('id="row-trending"');
      expect(await (await admin.get("/")).text()).toContain('id="row-trending"');
    } finally {
      await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
    }
  });
});
