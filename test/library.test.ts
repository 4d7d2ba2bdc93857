import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { savePlexServer } from "../src/services/auth-settings";
import { plexWebUrl } from "../src/services/plex-links";
import { findUserByPlexId } from "../src/store/users";
import {
  plexEpisode,
  plexMovie,
  plexSection,
  plexSeason,
  plexShow,
  startFakePlexServer,
  type FakePlexServer,
} from "./fakes/plex-server";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { CookieJar } from "./helpers/cookie-jar";
import { createTestApp, givenUser, signIn, type Browser, type TestApp } from "./helpers/test-app";

const MACHINE = "machine-library-1";
const OWNER_TOKEN = "owner-token-Lb7";
const HX = { "hx-request": "true" };

const inception = plexMovie({ ratingKey: "101", title: "Inception", year: 2010, addedAt: 1_700_000_300 });
const arrival = plexMovie({ ratingKey: "102", title: "Arrival", year: 2016, addedAt: 1_700_000_100 });
const heat = plexMovie({ ratingKey: "103", title: "Heat", year: 1995, addedAt: 1_700_000_200 });
const breakingBad = plexShow({ ratingKey: "800", title: "Breaking Bad", addedAt: 1_700_000_050 });
const season1 = plexSeason({ ratingKey: "900", parentRatingKey: "800", parentTitle: "Breaking Bad", index: 1 });
const pilot = plexEpisode({
  ratingKey: "201",
  title: "Pilot",
  grandparentTitle: "Breaking Bad",
  parentRatingKey: "900",
  grandparentRatingKey: "800",
  index: 1,
  addedAt: 1_700_000_400,
});
const catsInTheBag = plexEpisode({
  ratingKey: "202",
  title: "Cat's in the Bag...",
  grandparentTitle: "Breaking Bad",
  parentRatingKey: "900",
  grandparentRatingKey: "800",
  index: 2,
  addedAt: 1_700_000_010,
});

function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  return start < 0 ? "" : html.slice(start, html.indexOf("</section>", start));
}

describe("the Plex library, seen with each person's own token", () => {
  let plex: FakePlexServer;
  let plextv: FakePlexTv;
  let t: TestApp;
  let alice: CookieJar;
  let carol: CookieJar;
  let local: Browser;
  let admin: Browser;

  async function plexSignIn(token: string): Promise<CookieJar> {
    const jar = new CookieJar(t);
    await jar.get("/login");
    await jar.post("/auth/plex/pin", { next: "/library" }, HX);
    const pin = plextv.lastPin()!;
    plextv.approvePin(pin.id, token);
    const done = await jar.get("/auth/plex/poll", HX);
    expect(done.headers.get("hx-redirect")).toBe("/library");
    return jar;
  }

  beforeAll(async () => {
    plex = startFakePlexServer({
      machineIdentifier: MACHINE,
      ownerToken: OWNER_TOKEN,
      sections: [
        plexSection({ key: "1", type: "movie", title: "Movies" }),
        plexSection({ key: "2", type: "show", title: "TV Shows" }),
      ],
      // alice was given the movies, carol the shows.
      shares: { "alice-server-token": ["1"], "carol-server-token": ["2"] },
      items: [inception, arrival, heat, breakingBad, season1, pilot, catsInTheBag],
    });
    plextv = startFakePlexTv();
    t = await createTestApp({
      env: { MEDIANEST_PLEX_TV_URL: plextv.url, MEDIANEST_PLEX_APP_URL: `${plextv.url}/auth` },
      logLines: [],
    });
    admin = await signIn(t, await givenUser(t.deps, { role: "admin", username: "owner" }));
    local = await signIn(t, await givenUser(t.deps, { username: "local-member" }));
    await savePlexServer(t.deps, { machineIdentifier: MACHINE, name: "Home", url: plex.url, ownerToken: OWNER_TOKEN });
    const server = (accessToken: string) => ({
      clientIdentifier: MACHINE,
      name: "Home",
      provides: "server",
      owned: false,
      accessToken,
    });
    plextv.addUser({ token: "alice-plex", id: 3001, username: "alice", resources: [server("alice-server-token")] });
    plextv.addUser({ token: "carol-plex", id: 3002, username: "carol", resources: [server("carol-server-token")] });
    alice = await plexSignIn("alice-plex");
    carol = await plexSignIn("carol-plex");
  });
  afterAll(async () => {
    await t.close();
    await plex.stop();
    await plextv.stop();
  });

  test("the token saved at sign-in is the server's accessToken, tied to the server", async () => {
    const user = (await findUserByPlexId(t.deps.database, 3001))!;
    expect(t.deps.secretBox.decrypt(user.plexTokenEnc!)).toBe("alice-server-token");
    expect(user.plexTokenServer).toBe(MACHINE);
  });

  test("each member sees only the sections Plex shares with them, read with their own token", async () => {
    const aliceHome = await (await alice.get("/library")).text();
    expect(aliceHome).toContain('href="/library/1"');
    expect(aliceHome).toContain("Movies");
    expect(aliceHome).not.toContain("TV Shows");
    expect(aliceHome).toContain('<a href="/library" aria-current="page">Library</a>');
    const sectionsCall = plex.requests.findLast((r) => r.path === "/library/sections")!;
    expect(sectionsCall.headers["x-plex-token"]).toBe("alice-server-token");

    const carolHome = await (await carol.get("/library")).text();
    expect(carolHome).toContain('href="/library/2"');
    expect(carolHome).not.toContain('href="/library/1"');
    for (const html of [aliceHome, carolHome]) {
      expect(html).not.toContain("server-token");
      expect(html).not.toContain(OWNER_TOKEN);
    }
  });

  test("a section is a poster grid through the signed image proxy, sorted by title, date added or year", async () => {
    const byTitle = await (await alice.get("/library/1")).text();
    const titles = (html: string) => [...html.matchAll(/class="media-card-title">([^<]+)</g)].map((m) => m[1]);
    expect(titles(byTitle)).toEqual(["Arrival", "Heat", "Inception"]);
    expect(byTitle).toContain('href="/library/1/102"');
    expect(byTitle).toMatch(/<img src="\/img\/plex\?p=%2Flibrary%2Fmetadata%2F102%2Fthumb/);
    expect(byTitle).toContain("3 titles");
    const call = plex.requests.findLast((r) => r.path === "/library/sections/1/all")!;
    expect(call.query.sort).toBe("titleSort");
    expect(call.query["X-Plex-Container-Start"]).toBe("0");
    expect(call.headers["x-plex-token"]).toBe("alice-server-token");

    expect(titles(await (await alice.get("/library/1?sort=added")).text())).toEqual(["Inception", "Heat", "Arrival"]);
    expect(plex.requests.findLast((r) => r.path === "/library/sections/1/all")!.query.sort).toBe("addedAt:desc");
    expect(titles(await (await alice.get("/library/1?sort=year")).text())).toEqual(["Arrival", "Inception", "Heat"]);
  });

  test("search inside a section asks Plex for matching titles", async () => {
    const html = await (await alice.get("/library/1?q=inc")).text();
    expect(html).toContain("Inception");
    expect(html).not.toContain("Arrival");
    expect(html).toContain("1 title matching “inc”");
    expect(plex.requests.findLast((r) => r.path === "/library/sections/1/all")!.query.title).toBe("inc");
    const none = await (await alice.get("/library/1?q=zzz")).text();
    expect(none).toContain("Nothing in this library matches that search.");
  });

  test("a section, a show, a season or a movie not shared with the member is a 404", async () => {
    expect((await alice.get("/library/2")).status).toBe(404);
    expect((await alice.get("/library/2/800")).status).toBe(404);
    // The address names a section alice has, but the item lives in one she was not given.
    expect((await alice.get("/library/1/800")).status).toBe(404);
    expect((await alice.get("/library/1/900")).status).toBe(404);
    expect((await carol.get("/library/1/101")).status).toBe(404);
    expect((await carol.get("/library/2/101")).status).toBe(404);
    expect((await alice.get("/library/1/999999")).status).toBe(404);
    expect((await alice.get("/library/1/abc")).status).toBe(404);
  });

  test("a movie page has its backdrop, poster, facts and a Watch in Plex link", async () => {
    const res = await alice.get("/library/1/101");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1 id="item-title">Inception</h1>');
    expect(html).toContain("Movie · 2010 · 2 h 28 min");
    expect(html).toContain("Action, Science Fiction");
    expect(html).toContain('class="media-hero-backdrop" src="/img/plex?p=%2Flibrary%2Fmetadata%2F101%2Fart');
    const watch = plexWebUrl(MACHINE, "101");
    expect(watch).toBe(`https://app.plex.tv/desktop/#!/server/${MACHINE}/details?key=%2Flibrary%2Fmetadata%2F101`);
    expect(html).toContain(`href="${watch}"`);
  });

  test("a show lists its seasons, and a season its episodes", async () => {
    const grid = await (await carol.get("/library/2")).text();
    expect(grid).toContain('href="/library/2/800"');
    expect(grid).not.toContain("Pilot");
    const show = await (await carol.get("/library/2/800")).text();
    expect(show).toContain("Breaking Bad");
    expect(show).toContain("Drama, Crime");
    expect(show).toContain('<h2 id="item-children">Seasons</h2>');
    expect(show).toContain('href="/library/2/900"');
    expect(show).toContain("2 episodes");

    const season = await (await carol.get("/library/2/900")).text();
    expect(season).toContain("Breaking Bad: Season 1");
    expect(season).toContain('<h2 id="item-children">Episodes</h2>');
    expect(season.indexOf("Pilot")).toBeLessThan(season.indexOf("Cat&#39;s in the Bag..."));
    expect(season).toContain('href="/library/2/800"');

    const episode = await (await carol.get("/library/2/201")).text();
    expect(episode).toContain("Pilot");
    expect(episode).toContain('href="/library/2/900"');
    expect(episode).toContain(`href="${plexWebUrl(MACHINE, "201")}"`);
  });

  test("recently added on the dashboard is each member's own", async () => {
    const aliceRecent = await (await alice.get("/dashboard/recently-added", HX)).text();
    expect(aliceRecent).toContain("Inception");
    expect(aliceRecent).not.toContain("Pilot");
    expect(aliceRecent).not.toContain("Breaking Bad");
    const call = plex.requests.findLast((r) => r.path === "/library/recentlyAdded")!;
    expect(call.headers["x-plex-token"]).toBe("alice-server-token");

    const carolRecent = await (await carol.get("/dashboard/recently-added", HX)).text();
    expect(carolRecent).toContain("Pilot");
    expect(carolRecent).not.toContain("Inception");
    expect(carolRecent).not.toContain("Heat");

    // Cached per member: again costs no Plex call, and the dashboard then shows it at once.
    const before = plex.requests.length;
    expect(await (await alice.get("/dashboard/recently-added", HX)).text()).toContain("Inception");
    const page = await (await alice.get("/")).text();
    expect(plex.requests.length).toBe(before);
    expect(section(page, "dash-recently-added")).toContain("Inception");
    expect(section(page, "dash-recently-added")).not.toContain("Pilot");
  });

  test("a member without a Plex link is told why there is no library", async () => {
    const res = await local.get("/library");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Your MediaNest account is not linked to a Plex account");
    const recent = await (await local.get("/dashboard/recently-added", HX)).text();
    expect(recent).toContain("Your MediaNest account is not linked to a Plex account");
    expect(recent).not.toContain("Inception");
    const before = plex.requests.length;
    expect((await local.get("/library/1")).status).toBe(200);
    expect((await local.get("/library/1/101")).status).toBe(200);
    expect(plex.requests.length).toBe(before);
  });

  test("a Plex-linked member whose token is for another server is asked to sign in again", async () => {
    const stale = await signIn(
      t,
      await givenUser(t.deps, {
        plexId: 3999,
        plexTokenEnc: t.deps.secretBox.encrypt("old-token"),
        plexTokenServer: "another-server",
      }),
    );
    const before = plex.requests.length;
    const html = await (await stale.get("/library")).text();
    expect(html).toContain("Sign out and sign in with Plex again");
    expect(plex.requests.length).toBe(before);
  });

  test("an admin without a Plex link browses with the owner's token", async () => {
    const html = await (await admin.get("/library")).text();
    expect(html).toContain("Movies");
    expect(html).toContain("TV Shows");
    expect(plex.requests.findLast((r) => r.path === "/library/sections")!.headers["x-plex-token"]).toBe(OWNER_TOKEN);
  });

  test("Plex down or refusing while browsing is a clear message, never a 500", async () => {
    plex.failNext(503);
    const down = await alice.get("/library/1?sort=year&page=1");
    expect(down.status).toBe(502);
    expect(await down.text()).toContain("Plex refused the request (status 503). Try again in a moment.");

    plex.failNext("html");
    const item = await alice.get("/library/1/102");
    expect(item.status).toBe(502);
    expect(await item.text()).toContain("Plex answered something that is not JSON");

    plex.failNext(401);
    const refused = await alice.get("/library/1/103");
    expect(refused.status).toBe(502);
    expect(await refused.text()).toContain("Plex no longer accepts your sign-in for this server");

    // Infinite scrolling gets the message in place of the next cards.
    plex.failNext(500);
    const more = await alice.get("/library/1?page=2", HX);
    expect(more.status).toBe(502);
    const fragment = await more.text();
    expect(fragment).toContain('class="media-more"');
    expect(fragment).toContain("Try again");
  });

  test("bad paging, order or search input is a 422 naming the field", async () => {
    for (const [query, field] of [
      ["page=0", "page:"],
      ["page=abc", "page:"],
      ["sort=rating", "sort:"],
      [`q=${"x".repeat(101)}`, "q:"],
    ] as const) {
      const res = await alice.get(`/library/1?${query}`);
      expect(res.status).toBe(422);
      expect(await res.text()).toContain(field);
    }
  });

  test("paging: the grid loads the next page as a fragment", async () => {
    const many = Array.from({ length: 50 }, (_, i) =>
      plexMovie({ ratingKey: String(3000 + i), title: `Film ${String(i).padStart(2, "0")}`, year: 2000 }),
    );
    plex.setItems([inception, arrival, heat, breakingBad, season1, pilot, catsInTheBag, ...many]);
    try {
      const first = await (await alice.get("/library/1")).text();
      expect(first).toContain("53 titles");
      expect(first).toContain('hx-get="/library/1?page=2"');
      const next = await alice.get("/library/1?page=2", HX);
      const html = await next.text();
      expect(html).not.toContain("<html");
      expect(html.match(/class="media-card"/g)?.length).toBe(5);
      expect(html).not.toContain("hx-get=");
      expect(plex.requests.findLast((r) => r.path === "/library/sections/1/all")!.query["X-Plex-Container-Start"]).toBe(
        "48",
      );
    } finally {
      plex.setItems([inception, arrival, heat, breakingBad, season1, pilot, catsInTheBag]);
    }
  });
});
