import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { type FakeSeerr, loadSeerrSpec, seerrMovie, seerrShow, startFakeSeerr } from "./fakes/seerr";
import { redisAvailable, testRedisPrefix } from "./helpers/services";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-search-key";

let t: TestApp;
let seerr: FakeSeerr;
let member: Browser;

beforeAll(async () => {
  const spec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: API_KEY,
    ...(spec ? { spec } : {}),
    movies: [
      seerrMovie({ id: 157336, title: "Interstellar", releaseDate: "2014-11-05" }),
      seerrMovie({ id: 194, title: "Amélie", releaseDate: "2001-04-25" }),
      seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
      ...Array.from({ length: 25 }, (_, i) => seerrMovie({ id: 7000 + i, title: `Film Number ${i}` })),
    ],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad" })],
  });
  seerr.setAvailability("movie", 157336, 5);
  seerr.setAvailability("movie", 603, 3);
  t = await createTestApp();
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
  await givenUser(t.deps, { role: "admin" });
  member = await signIn(t, await givenUser(t.deps));
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
});

function searches(): { query: string; page: string; raw: string }[] {
  return seerr.requests
    .filter((r) => r.path === "/api/v1/search")
    .map((r) => ({ query: r.query.query ?? "", page: r.query.page ?? "", raw: r.rawQuery }));
}

describe("search", () => {
  test("an empty query shows the form and a hint, and asks Seerr nothing", async () => {
    const before = searches().length;
    for (const q of ["", "   ", "%09%0A"]) {
      const res = await member.get(`/search?q=${q}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<form class="media-search" action="/search" method="get"');
      expect(html).toContain("Results show as you type.");
      expect(html).toContain('<a href="/discover" aria-current="page">Discover</a>');
    }
    expect(searches().length).toBe(before);
  });

  test("results show posters, year, type and badges; the query goes to Seerr with %20 for spaces", async () => {
    const res = await member.get("/search?q=the+matrix");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(searches().at(-1)!.raw).toBe("query=the%20matrix&page=1");
    expect(html).toContain('href="/title/movie/603"');
    expect(html).toMatch(/href="\/title\/movie\/603"[\s\S]*?data-badge="processing"/);
    expect(html).toContain("1999");
    expect(html).toContain(">Movie<");
    expect(html).toContain("1 result for “the matrix”");
    expect(html).toContain('value="the matrix"');
    const shows = await (await member.get("/search?q=breaking")).text();
    expect(shows).toContain('href="/title/tv/1396"');
    expect(shows).toContain(">Show<");
    const available = await (await member.get("/search?q=interstellar")).text();
    expect(available).toMatch(/data-badge="available"[^>]*>Available/);
  });

  test("as you type: htmx gets the results region only; the box replaces an older query still in flight", async () => {
    const page = await (await member.get("/search?q=inter")).text();
    expect(page).toContain('hx-trigger="input changed delay:300ms"');
    expect(page).toContain('hx-sync="closest form:replace"');
    expect(page).toContain('hx-push-url="true"');
    const res = await member.get("/search?q=inter", { "hx-request": "true", "hx-target": "section#search-results" });
    const fragment = await res.text();
    expect(fragment.startsWith('<section id="search-results"')).toBe(true);
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain('href="/title/movie/157336"');
  });

  test("a repeated search within minutes comes from the cache: same words, other case or spacing", async () => {
    const before = searches().length;
    await member.get("/search?q=Amélie");
    expect(searches().length).toBe(before + 1);
    for (const q of ["am%C3%A9lie", "  AMÉLIE  ", "ame%CC%81lie"]) {
      const html = await (await member.get(`/search?q=${q}`)).text();
      expect(html).toContain('href="/title/movie/194"');
    }
    // "ame\u0301lie" (e and a combining accent) is the same query after NFC normalisation.
    expect(searches().length).toBe(before + 1);
  });

  test("pages: the first 20, then the next cards (and nothing after the last page)", async () => {
    const first = await (await member.get("/search?q=film%20number")).text();
    expect((first.match(/class="media-card"/g) ?? []).length).toBe(20);
    expect(first).toContain('href="/search?q=film%20number&amp;page=2&amp;more=1"');
    const more = await (
      await member.get("/search?q=film%20number&page=2&more=1", { "hx-request": "true", "hx-target": "li" })
    ).text();
    expect(more.startsWith("<li")).toBe(true);
    expect((more.match(/class="media-card"/g) ?? []).length).toBe(5);
    expect(more).not.toContain("page=3");
    // Without JavaScript the same link is a page of its own.
    const plain = await (await member.get("/search?q=film%20number&page=2&more=1")).text();
    expect(plain).toContain("<html");
    expect((plain.match(/class="media-card"/g) ?? []).length).toBe(5);
  });

  test("a very long query is 422 naming the field; a bad page too", async () => {
    const res = await member.get(`/search?q=${"a".repeat(101)}`);
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("q: use at most 100 characters.");
    expect(html).toContain('aria-invalid="true"');
    const fragment = await member.get(`/search?q=${"b".repeat(300)}`, { "hx-request": "true" });
    expect(fragment.status).toBe(422);
    expect((await fragment.text()).startsWith('<section id="search-results"')).toBe(true);
    expect((await member.get("/search?q=x&page=zero")).status).toBe(422);
  });

  test("unusual unicode never crashes: lone surrogates, control and zero-width characters, emoji, right-to-left", async () => {
    for (const q of [
      "%ED%A0%80",
      "%F0%9F%8E%AC%E2%80%8D",
      "%D7%A9%D7%9C%D7%95%D7%9D",
      "a%00b",
      "%E2%80%8B",
      "%FF%FE",
    ]) {
      const res = await member.get(`/search?q=${q}`);
      expect(res.status).toBe(200);
      await res.text();
    }
    for (const s of searches()) expect(s.raw).not.toContain("+");
  });

  test("Seerr down: a readable message in place of results; Seerr answering 200 with nothing: 'nothing found'", async () => {
    seerr.failNext("timeout");
    const slow = await member.get("/search?q=down%20now");
    expect(slow.status).toBe(200);
    expect(await slow.text()).toContain("Seerr did not answer (timeout after 5 s)");
    const none = await (await member.get("/search?q=zzzz")).text();
    expect(none).toContain("Nothing found for “zzzz”.");
  }, 20_000);
});

describe.skipIf(!redisAvailable)("search cache across replicas (Redis)", () => {
  test("a search made on one replica is answered from the cache on another", async () => {
    const prefix = testRedisPrefix();
    const a = await createTestApp({ redis: true, redisPrefix: prefix });
    const b = await createTestApp({ redis: true, redisPrefix: prefix });
    try {
      for (const x of [a, b]) {
        await saveSeerrIntegration(x.deps, { url: seerr.url, apiKey: API_KEY });
        await givenUser(x.deps, { role: "admin" });
      }
      const before = searches().length;
      expect(await (await (await signIn(a, await givenUser(a.deps))).get("/search?q=breaking")).text()).toContain(
        "/title/tv/1396",
      );
      expect(await (await (await signIn(b, await givenUser(b.deps))).get("/search?q=Breaking")).text()).toContain(
        "/title/tv/1396",
      );
      expect(searches().length).toBe(before + 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
