// Script payloads in every field that comes from outside, in a real Chromium: the fakes' payload mode fills Seerr's
// titles, overviews, cast and user names, Plex's titles, library, season, episode and user names, Uptime Kuma's
// monitor names and incident and maintenance texts; yt-dlp's titles, channel names and playlist entries, display
// names and notification texts are stored with them. A browser visits every page that shows them, and a live toast
// arrives over SSE: no payload runs (window.__xss never set, no dialog, no CSP violation, no element made from a
// payload) and each one is on the page as visible text. CI installs Chromium; without it the suite is SKIPPED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { audit } from "../../src/services/audit";
import { savePlexServer } from "../../src/services/auth-settings";
import { saveKumaIntegration, saveSeerrIntegration } from "../../src/services/integrations";
import { notify } from "../../src/services/notifications";
import { runStatusChecks } from "../../src/services/status";
import { insertDownload } from "../../src/store/downloads";
import { insertSubscription } from "../../src/store/subscriptions";
import type { User } from "../../src/store/users";
import type { PayloadMode } from "../fakes/http-fake";
import {
  plexEpisode,
  plexMovie,
  plexSeason,
  plexSection,
  plexSession,
  plexShow,
  startFakePlexServer,
  type FakePlexServer,
} from "../fakes/plex-server";
import { startFakePlexTv, type FakePlexTv } from "../fakes/plex-tv";
import { seerrMovie, seerrShow, seerrUser, SEERR_PERMISSIONS, startFakeSeerr, type FakeSeerr } from "../fakes/seerr";
import { startFakeUptimeKuma, type FakeUptimeKuma } from "../fakes/uptime-kuma";
import { type FakeTmdbImages, startFakeTmdbImages } from "../fakes/tmdb-images";
import { createTestApp, givenUser, signIn, type TestApp } from "../helpers/test-app";
import { type BrowserHarness, CHROMIUM, haveChromium, startBrowser } from "./harness";

if (!haveChromium) console.warn(`e2e: ${CHROMIUM} not found; the XSS suite is SKIPPED (install the chromium package)`);

const STEP_MS = 30_000;
const MACHINE = "xss-machine-00112233445566";
const OWNER_TOKEN = "xss-owner-token";
const SEERR_KEY = "xss-seerr-key";
const KUMA_KEY = "uk1_xss-kuma-key";

// What runs if a payload is ever parsed as markup: an attribute handler, a script, an SVG handler, a javascript:
// link (Markdown), and a quote that would end an attribute. Its visible text is what the page must show.
const SHOWN = "<script>window.__xss=1</script>";
function payload(field: string): string {
  return `${SHOWN}<img src=x onerror="window.__xss=1" data-xss="${field}">"'><svg onload=window.__xss=1>[run](javascript:window.__xss=1) ${field}`;
}
const PAYLOADS: PayloadMode = (key, original) => `${original} ${payload(key)}`;

// Elements a payload would make if it were parsed: none of the app's own markup looks like this.
const INJECTED =
  "[data-xss], img[src='x'], img[onerror], svg[onload], script:not([src]):not([type='application/json'])";

describe.skipIf(!haveChromium)("script payloads from every outside source stay text", () => {
  let t: TestApp;
  let plextv: FakePlexTv;
  let plex: FakePlexServer;
  let seerr: FakeSeerr;
  let kuma: FakeUptimeKuma;
  let tmdb: FakeTmdbImages;
  let h: BrowserHarness;
  let admin: User;
  let member: User;
  const dialogs: string[] = [];

  beforeAll(async () => {
    plextv = startFakePlexTv();
    const movie = plexMovie({ ratingKey: "100", title: "Heat", librarySectionID: 1 });
    const show = plexShow({ ratingKey: "200", title: "The Wire", librarySectionID: 2 });
    const season = plexSeason({ ratingKey: "201", parentRatingKey: "200", parentTitle: "The Wire", index: 1 });
    const episode = plexEpisode({
      ratingKey: "202",
      title: "The Target",
      parentRatingKey: "201",
      grandparentRatingKey: "200",
      grandparentTitle: "The Wire",
      parentTitle: "Season 1",
      librarySectionID: 2,
    });
    plex = startFakePlexServer({
      machineIdentifier: MACHINE,
      ownerToken: OWNER_TOKEN,
      friendlyName: "Home server",
      sections: [
        plexSection({ key: "1", type: "movie", title: "Movies" }),
        plexSection({ key: "2", type: "show", title: "TV Shows" }),
      ],
      items: [movie, show, season, episode],
      sessions: [plexSession(movie, { user: { id: "7", title: "Watching Person" }, playerTitle: "Living room TV" })],
      payload: PAYLOADS,
    });
    seerr = startFakeSeerr({
      apiKey: SEERR_KEY,
      users: [
        seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: SEERR_PERMISSIONS.ADMIN }),
        seerrUser({ id: 2, displayName: "Maria", plexId: 5002, permissions: SEERR_PERMISSIONS.REQUEST }),
      ],
      movies: [seerrMovie({ id: 603, title: "The Matrix" })],
      shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 2 })],
      payload: PAYLOADS,
    });
    kuma = startFakeUptimeKuma({
      slug: "home",
      apiKey: KUMA_KEY,
      groups: [{ id: 1, name: "Media", monitors: [{ id: 11, name: "Plex (Kuma)" }] }],
      payload: PAYLOADS,
    });
    kuma.setBeats(11, [{ status: 0, time: new Date(Date.now() - 60_000), ping: null }]);
    kuma.setIncidents([{ title: "Outage", content: "The **disk** is full." }]);
    kuma.setMaintenance([{ title: "Disk swap", description: "Swapping the disk." }]);

    tmdb = startFakeTmdbImages();
    t = await createTestApp({
      env: { MEDIANEST_PLEX_TV_URL: plextv.url, MEDIANEST_TMDB_IMAGE_URL: tmdb.url },
      logLines: [],
    });
    await savePlexServer(t.deps, { machineIdentifier: MACHINE, name: "Home", url: plex.url, ownerToken: OWNER_TOKEN });
    await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: SEERR_KEY });
    await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home", apiKey: KUMA_KEY });
    const token = { plexTokenEnc: t.deps.secretBox.encrypt(OWNER_TOKEN), plexTokenServer: MACHINE };
    admin = await givenUser(t.deps, {
      role: "admin",
      plexId: 9001,
      displayName: `Olivia ${payload("admin-name")}`,
      ...token,
    });
    member = await givenUser(t.deps, {
      plexId: 5002,
      displayName: `Maria ${payload("member-name")}`,
      permissions: ["request", "download"],
      ...token,
    });
    await runStatusChecks(t.deps);

    // What yt-dlp reported for a playlist and a channel subscription, stored as the worker and the subscription
    // check store it.
    const now = new Date();
    const id = crypto.randomUUID();
    await insertDownload(
      t.deps.database,
      {
        id,
        userId: member.id,
        url: "https://www.youtube.com/playlist?list=PLxss",
        kind: "playlist",
        remoteId: "PLxss",
        title: `Playlist ${payload("ytdlp-title")}`,
        channel: `Channel ${payload("ytdlp-channel")}`,
        quality: "best",
        sectionKey: "1",
        folder: "/nowhere",
        status: "awaiting_approval",
        itemCount: 2,
        createdAt: now,
        updatedAt: now,
      },
      [1, 2].map((n) => ({
        id: `${id}-${n}`,
        downloadId: id,
        userId: member.id,
        position: n,
        remoteId: `v${n}`,
        title: `Entry ${n} ${payload(`ytdlp-entry-${n}`)}`,
        url: `https://www.youtube.com/watch?v=v${n}`,
        status: "awaiting_approval" as const,
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      })),
    );
    await insertSubscription(
      t.deps.database,
      {
        id: crypto.randomUUID(),
        userId: member.id,
        url: "https://www.youtube.com/@xss/videos",
        title: `Subscription ${payload("ytdlp-subscription")}`,
        channel: `Channel ${payload("ytdlp-subscription-channel")}`,
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
    await notify(t.deps, member.id, {
      kind: "test",
      title: `Stored ${payload("notification-title")}`,
      body: `Body ${payload("notification-body")}`,
    });
    await audit(
      t.deps,
      { user: admin, ip: "127.0.0.1" },
      "user.profile_change",
      { type: "user", id: member.id },
      {
        username: payload("audit-detail"),
      },
    );
    // A request made through the page stores Seerr's title (with its payload) for the requests pages.
    const maria = await signIn(t, member);
    const made = await maria.post("/title/movie/603/request", { is4k: "0" });
    expect(made.status).toBeLessThan(400);

    h = await startBrowser(t);
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await t?.close();
    await Promise.all([plextv?.stop(), plex?.stop(), seerr?.stop(), kuma?.stop(), tmdb?.stop()]);
  });

  async function newPage(user: User): Promise<Page> {
    const page = await h.newPage(user);
    page.on("dialog", (d) => {
      dialogs.push(`${page.url()}: ${d.type()} ${d.message()}`);
      void d.dismiss();
    });
    return page;
  }

  /** What a page shows of the payloads, and whether any ran or made an element. */
  async function inspect(page: Page) {
    return page.evaluate(
      ([injected, shown]) => {
        const w = window as unknown as { __xss?: unknown; __csp: string[] };
        // A select's options are text the person reads too.
        const options = [...document.querySelectorAll("option")].map((o) => o.textContent).join("\n");
        const text = `${document.body.innerText}\n${options}`;
        return {
          ran: w.__xss !== undefined,
          csp: w.__csp,
          injected: [...document.querySelectorAll(injected!)].map((e) => e.outerHTML.slice(0, 120)),
          shown: text.split(shown!).length - 1,
          fields: [
            ...new Set([...text.matchAll(/\[run\]\(javascript:window\.__xss=1\) ([A-Za-z0-9-]+)/g)].map((m) => m[1])),
          ],
        };
      },
      [INJECTED, SHOWN],
    );
  }

  // Pages and the fields they must show as text; every page is checked for payloads that ran either way.
  const PAGES: { path: string; as: "admin" | "member"; shows: string[] }[] = [
    { path: "/", as: "admin", shows: ["admin-name", "title"] },
    { path: "/discover", as: "member", shows: ["title"] },
    { path: "/search?q=matrix", as: "member", shows: ["title"] },
    { path: "/title/movie/603", as: "member", shows: ["title", "overview", "name"] },
    { path: "/title/tv/1396", as: "member", shows: ["name", "overview"] },
    { path: "/requests", as: "member", shows: ["title"] },
    { path: "/admin/requests", as: "admin", shows: ["title", "member-name"] },
    { path: "/library", as: "member", shows: ["title"] },
    { path: "/library/1", as: "member", shows: ["title"] },
    { path: "/library/1/100", as: "member", shows: ["title", "summary"] },
    { path: "/library/2/200", as: "member", shows: ["title"] },
    { path: "/library/2/202", as: "member", shows: ["title"] },
    { path: "/status", as: "member", shows: ["name", "title", "content"] },
    { path: "/downloads", as: "member", shows: ["ytdlp-title"] },
    { path: "/downloads/subscriptions", as: "member", shows: ["ytdlp-subscription"] },
    { path: "/admin/downloads", as: "admin", shows: ["ytdlp-title"] },
    { path: "/notifications", as: "member", shows: ["notification-title", "notification-body"] },
    { path: "/account", as: "member", shows: ["member-name"] },
    { path: "/admin/users", as: "admin", shows: ["member-name"] },
    { path: `/admin/users/{member}`, as: "admin", shows: ["member-name"] },
    // Seerr's user list, offered to link someone who is not linked yet.
    { path: `/admin/users/{admin}/seerr`, as: "admin", shows: ["displayName"] },
    { path: "/admin/audit", as: "admin", shows: ["admin-name"] },
    { path: "/admin", as: "admin", shows: [] },
    { path: "/admin/integrations", as: "admin", shows: [] },
    { path: "/admin/jobs", as: "admin", shows: [] },
  ];

  test(
    "no page runs a payload, and each shows its payloads as text",
    async () => {
      const problems: string[] = [];
      const pages = { admin: await newPage(admin), member: await newPage(member) };
      for (const p of PAGES) {
        const page = pages[p.as];
        const path = p.path.replace("{member}", member.id).replace("{admin}", admin.id);
        const res = await page.goto(path);
        // The parts htmx loads after the page (dashboard sections, lists) have time to arrive and be swapped in.
        await page.waitForLoadState("load");
        await page.waitForTimeout(400);
        const seen = await inspect(page);
        const label = `${path} as ${p.as} (${res?.status()})`;
        if (seen.ran) problems.push(`${label}: window.__xss was set`);
        if (seen.csp.length) problems.push(`${label}: CSP violations ${seen.csp.join("; ")}`);
        if (seen.injected.length) problems.push(`${label}: elements from a payload ${seen.injected.join(" ")}`);
        for (const field of p.shows)
          if (!seen.fields.includes(field)) problems.push(`${label}: the ${field} payload is not shown as text`);
      }
      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
    },
    STEP_MS * 4,
  );

  test(
    "a notification arriving live as a toast over SSE stays text",
    async () => {
      const page = await newPage(member);
      await page.goto("/downloads");
      await h.streamReady(page);
      await notify(t.deps, member.id, {
        kind: "test",
        title: `Live ${payload("toast-title")}`,
        body: `Live body ${payload("toast-body")}`,
      });
      await page.waitForFunction(
        () => (document.querySelector("#toasts")?.textContent ?? "").includes("toast-title"),
        undefined,
        {
          timeout: 10_000,
        },
      );
      await page.waitForTimeout(200);
      const seen = await inspect(page);
      expect(seen.ran).toBe(false);
      expect(seen.csp).toEqual([]);
      expect(seen.injected).toEqual([]);
      expect(seen.fields).toContain("toast-title");
      expect(dialogs).toEqual([]);
    },
    STEP_MS,
  );

  test("no page showing the payloads logged a console error or an uncaught error", () => {
    expect(h.problems).toEqual([]);
  });
});
