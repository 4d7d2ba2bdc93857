// A request from search to Plex in a real Chromium: a member searches for a show, opens it, requests season 2 only;
// an admin approves it on /admin/requests; Seerr (the fake) then sends its MEDIA_AVAILABLE webhook with the default
// template, and the member's open /requests page turns "available" and a notification arrives, without a reload.
// No console error or CSP violation on the way. CI installs Chromium; without it the suite is SKIPPED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { saveSeerrIntegration } from "../../src/services/integrations";
import { webhookAuthHeader, webhookSecret } from "../../src/services/seerr-webhook";
import { findMediaRequestById, listMediaRequests } from "../../src/store/media-requests";
import type { User } from "../../src/store/users";
import { type FakeSeerr, SEERR_PERMISSIONS, seerrShow, seerrUser, startFakeSeerr } from "../fakes/seerr";
import { type FakeTmdbImages, startFakeTmdbImages } from "../fakes/tmdb-images";
import { createTestApp, givenUser, type TestApp } from "../helpers/test-app";
import { type BrowserHarness, CHROMIUM, haveChromium, startBrowser, text, until } from "./harness";

if (!haveChromium)
  console.warn(`e2e: ${CHROMIUM} not found; the requests flow suite is SKIPPED (install the chromium package)`);

const API_KEY = "e2e-seerr-key";
const SHOW = { id: 95396, name: "Severance" };
const STEP_MS = 30_000;

describe.skipIf(!haveChromium)("a request from search to Plex, in Chromium", () => {
  let t: TestApp;
  let seerr: FakeSeerr;
  let tmdb: FakeTmdbImages;
  let h: BrowserHarness;
  let admin: User;
  let member: User;

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
    h = await startBrowser(t);
  });

  afterAll(async () => {
    await h?.close();
    await t?.close();
    await seerr?.stop();
    await tmdb?.stop();
  });

  test("search, request season 2, approve, Seerr's MEDIA_AVAILABLE webhook: the open list and the bell follow live", {
    timeout: STEP_MS,
  }, async () => {
    // The member finds the show by searching as they type, and opens it.
    const memberContext = await h.newContext(member);
    const page = await memberContext.newPage();
    await page.goto("/search");
    await page.getByPlaceholder("Search movies and shows").pressSequentially("Sever");
    const hit = page.locator("#search-results a", { hasText: SHOW.name }).first();
    await hit.waitFor({ timeout: 5000 });
    await until("the search to be in the address", () => page.url().includes("q=Sever"));
    await hit.click();
    await page.waitForURL(`${h.base}/title/tv/${SHOW.id}`);
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
    await h.streamReady(page);
    const item = page.locator(`#r-${row!.id}`);
    // A mark on this document: gone if anything below reloads the page instead of swapping it live.
    await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 1));
    expect(await item.getAttribute("data-state")).toBe("pending");
    expect(await item.textContent()).toContain("Show, season 2");

    // An admin approves it on MediaNest's own approvals page.
    const adminContext = await h.newContext(admin);
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
      { url: `${h.base}/api/v1/webhooks/seerr`, authHeader: webhookAuthHeader(await webhookSecret(t.deps)) },
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
    expect(page.url()).toBe(`${h.base}/requests`);
    expect((await findMediaRequestById(t.deps.database, row!.id))?.status).toBe("available");
    expect(await page.evaluate(() => (window as unknown as { __mark?: number }).__mark)).toBe(1);
    expect(await h.sse(page)).toMatchObject({ connections: 1 });
  });

  test("no console errors, uncaught errors or CSP violations on any page visited", () => {
    for (const path of ["/search", `/title/tv/${SHOW.id}`, "/requests", "/admin/requests"])
      expect(h.visited).toContain(path);
    expect(h.problems).toEqual([]);
  });
});
