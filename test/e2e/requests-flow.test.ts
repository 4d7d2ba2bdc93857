// A request from search to Plex in a real Chromium: a member searches for a show, opens it, requests season 2 only;
// an admin approves it on /admin/requests; Seerr (the fake) then sends its MEDIA_AVAILABLE webhook with the default
// template, and the member's open /requests page turns "available" and a notification arrives, without a reload.
// No console error or CSP violation on the way. CI installs Chromium; without it the suite is SKIPPED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { saveSeerrIntegration } from "../../src/services/integrations";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import { webhookAuthHeader, webhookSecret } from "../../src/services/seerr-webhook";
import { findMediaRequestById, listMediaRequests } from "../../src/store/media-requests";
import type { User } from "../../src/store/users";
import { type FakeSeerr, SEERR_PERMISSIONS, seerrShow, seerrUser, startFakeSeerr } from "../fakes/seerr";
import { type FakeTmdbImages, startFakeTmdbImages } from "../fakes/tmdb-images";
import { createTestApp, givenUser, type TestApp } from "../helpers/test-app";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`e2e: ${CHROMIUM} not found; the requests flow suite is SKIPPED (install the chromium package)`);

const API_KEY = "e2e-seerr-key";
const SHOW = { id: 95396, name: "Severance" };
const STEP_MS = 30_000;

// Counts SSE connections and messages per page, and turns CSP violations into console errors the watcher sees.
// Init scripts are injected by the browser itself, so the page's CSP does not apply to them.
const INIT_SCRIPT = `
  window.__sse = { connections: 0, messages: 0 };
  document.addEventListener("htmx:sse:after:connection", () => { window.__sse.connections++; }, true);
  document.addEventListener("htmx:sse:after:message", () => { window.__sse.messages++; }, true);
  document.addEventListener("securitypolicyviolation", (e) => {
    console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
  });
`;

/** Poll until check() holds; fail naming what was awaited. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`e2e: timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

describe.skipIf(!haveChromium)("a request from search to Plex, in Chromium", () => {
  let t: TestApp;
  let seerr: FakeSeerr;
  let tmdb: FakeTmdbImages;
  let server: ReturnType<typeof Bun.serve>;
  let browser: Browser;
  let base: string;
  let admin: User;
  let member: User;
  const contexts: BrowserContext[] = [];
  /** Console errors, uncaught page errors and CSP violations on MediaNest's own pages. */
  const problems: string[] = [];
  const visited = new Set<string>();

  beforeAll(async () => {
    seerr = startFakeSeerr({
      apiKey: API_KEY,
      users: [
        seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: SEERR_PERMISSIONS.ADMIN }),
        seerrUser({ id: 2, displayName: "Maria", plexId: 5002, permissions: SEERR_PERMISSIONS.REQUEST }),
      ],
      shows: [seerrShow({ id: SHOW.id, name: SHOW.name, seasonCount: 3 })],
    });
    tmdb = startFakeTmdbImages();
    t = await createTestApp({ env: { MEDIANEST_TMDB_IMAGE_URL: tmdb.url }, logLines: [] });
    await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
    admin = await givenUser(t.deps, { role: "admin", displayName: "Olivia Owner", plexId: 9001 });
    member = await givenUser(t.deps, { displayName: "Maria Member", plexId: 5002 });
    // Production serves with idleTimeout 60 (src/cli/serve.ts); the SSE heartbeat keeps streams inside it.
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 60,
      fetch: (req, srv) => t.app.fetch(req, { server: srv }),
    });
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop(true);
    await t?.close();
    await seerr?.stop();
    await tmdb?.stop();
  });

  function watch(page: Page) {
    const mine = () => page.url().startsWith(base);
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame() && mine()) visited.add(new URL(page.url()).pathname);
    });
    page.on("console", (msg) => {
      if (msg.type() === "error" && mine()) problems.push(`${page.url()}: console error: ${msg.text()}`);
    });
    page.on("pageerror", (err) => {
      if (mine()) problems.push(`${page.url()}: uncaught: ${err.message}`);
    });
  }

  /** A fresh browser profile signed in as `user`. */
  async function newContext(user: User) {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await context.addInitScript({ content: INIT_SCRIPT });
    context.on("page", watch);
    const { cookie } = await startSession(t.deps, user, { ip: "127.0.0.1", userAgent: "e2e" });
    await context.addCookies([{ name: SESSION_COOKIE, value: cookie, url: base, httpOnly: true, sameSite: "Lax" }]);
    return context;
  }

  async function sse(page: Page): Promise<{ connections: number; messages: number }> {
    return page.evaluate(() => (window as unknown as { __sse: { connections: number; messages: number } }).__sse);
  }

  /** Wait until the page's live stream delivered its first message, which the server sends after subscribing. */
  async function streamReady(page: Page) {
    let seen = { connections: 0, messages: 0 };
    await until(`the live stream of ${page.url()}`, async () => {
      seen = await sse(page);
      return seen.connections >= 1 && seen.messages > 0;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; saw ${JSON.stringify(seen)}, ${t.deps.live.size} streams open on the server`);
    });
  }

  const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();

  test("search, request season 2, approve, Seerr's MEDIA_AVAILABLE webhook: the open list and the bell follow live", {
    timeout: STEP_MS,
  }, async () => {
    // The member finds the show by searching as they type, and opens it.
    const memberContext = await newContext(member);
    const page = await memberContext.newPage();
    await page.goto("/search");
    await page.getByPlaceholder("Search movies and shows").pressSequentially("Sever");
    const hit = page.locator("#search-results a", { hasText: SHOW.name }).first();
    await hit.waitFor({ timeout: 5000 });
    await until("the search to be in the address", () => page.url().includes("q=Sever"));
    await hit.click();
    await page.waitForURL(`${base}/title/tv/${SHOW.id}`);
    expect(await text(page, "h1")).toContain(SHOW.name);

    // Season 2 only.
    const picker = page.locator(".season-picker");
    await picker.getByLabel("Season 2").check();
    expect(await picker.getByLabel("Season 1").isChecked()).toBe(false);
    expect(await picker.getByLabel("All seasons not yet requested").isChecked()).toBe(false);
    await page.getByRole("button", { name: "Request the chosen seasons" }).click();
    await page.locator("#request-area", { hasText: "Requested. Its state: pending approval." }).waitFor();
    const sent = seerr.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/request");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ mediaType: "tv", mediaId: SHOW.id, seasons: [2] });
    expect(sent[0]!.headers["x-api-user"]).toBe("2");
    const [row] = (await listMediaRequests(t.deps.database, { userId: member.id })).items;
    expect(row).toMatchObject({ status: "pending", seasons: [2] });

    // The member keeps their requests open while the rest happens elsewhere.
    await page.goto("/requests");
    await streamReady(page);
    const item = page.locator(`#r-${row!.id}`);
    // A mark on this document: gone if anything below reloads the page instead of swapping it live.
    await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 1));
    expect(await item.getAttribute("data-state")).toBe("pending");
    expect(await item.textContent()).toContain("Show, season 2");

    // An admin approves it on MediaNest's own approvals page.
    const adminContext = await newContext(admin);
    const adminPage = await adminContext.newPage();
    await adminPage.goto("/admin/requests");
    await adminPage.locator(`#r-${row!.id}`).getByRole("button", { name: "Approve" }).click();
    await until(
      "the admin's list to show it approved",
      async () => (await adminPage.locator(`#r-${row!.id}`).getAttribute("data-state")) !== "pending",
    );
    expect(
      seerr.requests.some((r) => r.method === "POST" && r.path === `/api/v1/request/${row!.seerrRequestId}/approve`),
    ).toBe(true);
    await until(
      "the member's list to leave pending",
      async () => (await item.getAttribute("data-state")) !== "pending",
    );
    await page.locator("#toasts .toast", { hasText: `Request approved: ${SHOW.name}` }).waitFor({ timeout: 5000 });
    await until("the bell to count the approval", async () => (await text(page, "#bell-count")) === "1");

    // Plex gets season 2; Seerr's webhook agent posts MEDIA_AVAILABLE with its default template.
    seerr.setAvailability("tv", SHOW.id, 4, undefined, { 2: 5 });
    const payload = seerr.webhookPayload("MEDIA_AVAILABLE", row!.seerrRequestId);
    const strings = (o: unknown): boolean =>
      o === null ||
      typeof o === "string" ||
      (Array.isArray(o) ? o.every(strings) : typeof o === "object" && Object.values(o as object).every(strings));
    expect(strings(payload)).toBe(true);
    expect(payload).toMatchObject({
      notification_type: "MEDIA_AVAILABLE",
      request: { request_id: String(row!.seerrRequestId) },
    });
    const res = await seerr.sendWebhook(
      { url: `${base}/api/v1/webhooks/seerr`, authHeader: webhookAuthHeader(await webhookSecret(t.deps)) },
      "MEDIA_AVAILABLE",
      row!.seerrRequestId,
    );
    expect(res.status).toBe(200);

    await until(
      "the member's list to show it available",
      async () => (await item.getAttribute("data-state")) === "available",
    );
    expect(await item.locator(".media-badge").textContent()).toBe("Available");
    await page.locator("#toasts .toast", { hasText: `Ready to watch: ${SHOW.name}` }).waitFor({ timeout: 5000 });
    await until("the bell to count both", async () => (await text(page, "#bell-count")) === "2");
    expect(page.url()).toBe(`${base}/requests`);
    expect((await findMediaRequestById(t.deps.database, row!.id))?.status).toBe("available");
    expect(await page.evaluate(() => (window as unknown as { __mark?: number }).__mark)).toBe(1);
    expect(await sse(page)).toMatchObject({ connections: 1 });
  });

  test("no console errors, uncaught errors or CSP violations on any page visited", () => {
    for (const path of ["/search", `/title/tv/${SHOW.id}`, "/requests", "/admin/requests"])
      expect(visited).toContain(path);
    expect(problems).toEqual([]);
  });
});
