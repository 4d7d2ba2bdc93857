// The pages in a real Chromium: Plex sign-in through the fake plex.tv, live notifications and their catch-up after
// a dropped stream, the maintenance notice, the theme toggle, keyboard focus, screenshots at phone and desktop
// width, and no console error or CSP violation anywhere. CI installs Chromium; without it the suite is SKIPPED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { audit } from "../../src/services/audit";
import { savePlexServer } from "../../src/services/auth-settings";
import { saveKumaIntegration } from "../../src/services/integrations";
import { notify } from "../../src/services/notifications";
import { createNotificationTarget } from "../../src/services/outbound-notifications";
import { insertNotificationDeliveries } from "../../src/store/notification-targets";
import { runStatusChecks } from "../../src/services/status";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import { findUserByPlexId, type User } from "../../src/store/users";
import { startFakePlexTv, type FakePlexTv } from "../fakes/plex-tv";
import { startFakeUptimeKuma } from "../fakes/uptime-kuma";
import { createTestApp, givenUser, type TestApp } from "../helpers/test-app";
import { type BrowserHarness, CHROMIUM, DESKTOP, haveChromium, startBrowser, text, until } from "./harness";

if (!haveChromium)
  console.warn(`e2e: ${CHROMIUM} not found; the browser suite is SKIPPED (install the chromium package)`);

const SHOTS = join(import.meta.dir, "..", "..", "test-artifacts", "screenshots");
const MACHINE = "machine-e2e";
const PHONE = { width: 360, height: 740 };
// bun:test kills the browser when a test times out; each step gets room, the whole file stays well under 60 s.
const STEP_MS = 20_000;

describe.skipIf(!haveChromium)("MediaNest in Chromium", () => {
  let plextv: FakePlexTv;
  let t: TestApp;
  let h: BrowserHarness;
  let admin: User;
  let member: User;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    plextv = startFakePlexTv();
    plextv.addUser({
      token: "friend-token",
      id: 2002,
      username: "friend",
      title: "Friendly Person",
      resources: [
        {
          clientIdentifier: MACHINE,
          name: "Living Room",
          provides: "server",
          owned: false,
          accessToken: "shared-token",
        },
      ],
    });
    // The Plex sign-in page is the fake's /auth, which answers 404: the popup only has to go there.
    // The deliveries to the unreachable webhook of the real-content pages log failures: captured, not printed.
    t = await createTestApp({
      env: { MEDIANEST_PLEX_TV_URL: plextv.url, MEDIANEST_PLEX_APP_URL: `${plextv.url}/auth` },
      logLines: [],
    });
    admin = await givenUser(t.deps, {
      role: "admin",
      username: "owner",
      displayName: "Olivia Owner",
      passwordHash: await Bun.password.hash("owner-password-1"),
    });
    member = await givenUser(t.deps, { username: "maria", displayName: "Maria Member" });
    await savePlexServer(t.deps, {
      machineIdentifier: MACHINE,
      name: "Living Room",
      url: null,
      ownerToken: "owner-token",
    });
    h = await startBrowser(t);
  });

  afterAll(async () => {
    await h?.close();
    await t?.close();
    await plextv?.stop();
  });

  test("Plex sign-in approved elsewhere (popup never opened): the poller lands the page signed in", {
    timeout: STEP_MS,
  }, async () => {
    const context = await h.newContext();
    const page = await context.newPage();
    await page.goto("/login");
    await page.getByRole("button", { name: "Sign in with Plex" }).click();
    await page.getByRole("link", { name: "Open Plex to approve" }).waitFor();
    expect(page.url()).toBe(`${h.base}/login`);
    plextv.approvePin(plextv.lastPin()!.id, "friend-token");
    await page.waitForURL(`${h.base}/`, { timeout: 8000 });
    expect(await text(page, ".header-tools a[href='/account']")).toBe("Friendly Person");
    await context.close();
  });

  test("Plex sign-in through the popup: it opens plex.tv, comes back, closes itself; the page lands signed in", {
    timeout: STEP_MS,
  }, async () => {
    const context = await h.newContext();
    const page = await context.newPage();
    await page.goto("/login");
    await page.getByRole("button", { name: "Sign in with Plex" }).click();
    const approve = page.getByRole("link", { name: "Open Plex to approve" });
    await approve.waitFor();
    const pin = plextv.lastPin()!;
    expect(pin).toBeDefined();

    const [popup] = await Promise.all([context.waitForEvent("page"), approve.click()]);
    await popup.waitForURL((u) => u.href.startsWith(`${plextv.url}/auth`));
    expect(popup.url()).toContain(`code=${pin.code}`);
    expect(popup.url()).toContain(encodeURIComponent(`${h.base}/auth/plex/return`));
    expect(page.url()).toBe(`${h.base}/login`);
    expect(await text(page, "#plex-signin")).toContain("Waiting for you to approve");

    // Approve on "plex.tv", which then sends the popup back to forwardUrl. The popup closes itself, and the page
    // that opened it (its own poll, or the popup's, wins the PIN) lands signed in without a reload.
    plextv.approvePin(pin.id, "friend-token");
    const forward = new URLSearchParams(new URL(popup.url()).hash.slice(2)).get("forwardUrl")!;
    expect(forward).toBe(`${h.base}/auth/plex/return`);
    const closed = popup.waitForEvent("close", { timeout: 5000 });
    await popup.evaluate((u) => {
      location.href = u;
    }, forward);
    await closed;
    await page.waitForURL(`${h.base}/`, { timeout: 8000 });
    expect(await text(page, ".header-tools a[href='/account']")).toBe("Friendly Person");
    const friend = (await findUserByPlexId(t.deps.database, 2002))!;
    expect(friend.displayName).toBe("Friendly Person");
    const polls = plextv.requests.filter((r) => r.method === "GET" && r.path === `/api/v2/pins/${pin.id}`);
    expect(polls.length).toBeGreaterThanOrEqual(1);
    await context.close();
  });

  test("a notification pushed by the server updates the bell, shows a toast and the list; marking read clears the bell", {
    timeout: STEP_MS,
  }, async () => {
    const context = await h.newContext(member);
    // A slow hx-sse.js (a cold cache) must still start the stream: htmx may not initialise before it registers.
    await context.route(/\/static\/hx-sse\.[0-9a-f]+\.js$/, async (route) => {
      await Bun.sleep(300);
      await route.continue();
    });
    const page = await context.newPage();
    await page.goto("/");
    await h.streamReady(page);
    expect(await text(page, "#bell-count")).toBe("");
    expect(await page.isVisible("#bell-count")).toBe(false);

    await notify(t.deps, member.id, {
      kind: "test",
      title: "Dune is ready",
      body: "Dune (2021) is on Plex now.",
      link: "/",
    });
    await until("the bell to show 1", async () => (await text(page, "#bell-count")) === "1");
    const toast = page.locator("#toasts .toast", { hasText: "Dune is ready" });
    await toast.waitFor({ timeout: 3000 });
    expect(await toast.textContent()).toContain("Dune (2021) is on Plex now.");
    await toast.getByRole("button", { name: "Dismiss" }).click();
    expect(await page.locator("#toasts .toast").count()).toBe(0);

    await page.goto("/notifications");
    await h.streamReady(page);
    expect(await page.locator("#notification-list li").count()).toBe(1);
    await notify(t.deps, member.id, {
      kind: "test",
      title: "Arrival is ready",
      body: "Arrival (2016) is on Plex now.",
    });
    // The list refreshes itself on mn-notifications; no reload.
    await page.locator("#notification-list li", { hasText: "Arrival is ready" }).waitFor({ timeout: 3000 });
    expect(await page.locator("#notification-list li").count()).toBe(2);
    await until("the bell to show 2", async () => (await text(page, "#bell-count")) === "2");

    await page
      .locator("#notification-list li", { hasText: "Arrival is ready" })
      .getByRole("button", { name: "Mark read" })
      .click();
    await until("the bell to show 1 after marking one read", async () => (await text(page, "#bell-count")) === "1");
    await page
      .locator("#notification-list li", { hasText: "Dune is ready" })
      .getByRole("button", { name: "Mark read" })
      .click();
    await until("the bell to clear", async () => (await text(page, "#bell-count")) === "");
    expect(await page.isVisible("#bell-count")).toBe(false);
    expect(await page.locator("#notification-list [data-unread]").count()).toBe(0);
    await context.close();
  });

  test("after the stream drops, the browser reconnects by itself and catches up on what it missed", {
    timeout: STEP_MS,
  }, async () => {
    const context = await h.newContext(member);
    const page = await context.newPage();
    await page.goto("/notifications");
    await h.streamReady(page);
    const before = await page.locator("#notification-list li").count();

    // No notification has reached this page yet: the catch-up must still work from the first connection.
    const requests: Record<string, string>[] = [];
    page.on("request", (req) => {
      if (new URL(req.url()).pathname === "/events") requests.push(req.headers());
    });
    t.deps.live.closeAll();
    await notify(t.deps, member.id, {
      kind: "test",
      title: "Missed while away",
      body: "Sent while the stream was down.",
    });
    await page.locator("#toasts .toast", { hasText: "Missed while away" }).waitFor({ timeout: 5000 });
    await h.streamReady(page, 2);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.at(-1)!["last-event-id"]).toMatch(/^n[0-9a-z-]+$/);
    await until("the bell to count the missed notification", async () => (await text(page, "#bell-count")) === "1");
    await until(
      "the list to show the missed notification",
      async () => (await page.locator("#notification-list li").count()) === before + 1,
    );

    // The stream carries on live after the reconnect, and the id it saw last moves the catch-up cursor on.
    const live = (await notify(t.deps, member.id, {
      kind: "test",
      title: "Live again",
      body: "After the reconnect.",
    }))!;
    await page.locator("#toasts .toast", { hasText: "Live again" }).waitFor({ timeout: 3000 });
    t.deps.live.closeAll();
    await h.streamReady(page, 3);
    expect(requests.at(-1)!["last-event-id"]).toBe(`n${live.id}`);
    await Bun.sleep(200);
    expect(await page.locator("#toasts .toast", { hasText: "Missed while away" }).count()).toBe(1);
    expect(await page.locator("#toasts .toast", { hasText: "Live again" }).count()).toBe(1);
    await context.close();
  });

  test("the maintenance notice an admin posts appears on another user's open page without a reload", {
    timeout: STEP_MS,
  }, async () => {
    const memberContext = await h.newContext(member);
    const memberPage = await memberContext.newPage();
    await memberPage.goto("/");
    await h.streamReady(memberPage);
    expect(await text(memberPage, "#notice-banner")).toBe("");

    const adminContext = await h.newContext(admin);
    const adminPage = await adminContext.newPage();
    await adminPage.goto("/admin");
    await adminPage.getByLabel("Notice").fill("Plex restarts tonight at 23:00.");
    await adminPage.getByRole("button", { name: "Post notice" }).click();
    await adminPage.waitForURL(`${h.base}/admin?saved=notice`);
    expect(await text(adminPage, "#notice-banner")).toBe("Plex restarts tonight at 23:00.");

    await memberPage
      .locator("#notice-banner .banner", { hasText: "Plex restarts tonight at 23:00." })
      .waitFor({ timeout: 3000 });
    expect(memberPage.url()).toBe(`${h.base}/`);

    await adminPage.getByRole("button", { name: "Clear notice" }).click();
    await adminPage.waitForURL(`${h.base}/admin?saved=notice`);
    await until(
      "the notice to disappear from the member's page",
      async () => (await text(memberPage, "#notice-banner")) === "",
    );
    await memberContext.close();
    await adminContext.close();
  });

  test("a monitor going down in Uptime Kuma turns its status tile red without a reload", {
    timeout: STEP_MS,
  }, async () => {
    const kuma = startFakeUptimeKuma({
      slug: "home",
      groups: [{ name: "Media", monitors: [{ id: 31, name: "Jellyfin box" }] }],
    });
    try {
      kuma.setBeats(31, [{ status: 1, time: new Date(Date.now() - 60_000), ping: 12 }]);
      await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home" });
      await runStatusChecks(t.deps);
      const context = await h.newContext(member);
      const page = await context.newPage();
      await page.goto("/status");
      await h.streamReady(page);
      const tile = page.locator('[data-tile="kuma:31"]');
      expect(await tile.getAttribute("data-state")).toBe("up");
      const upColour = await tile.locator(".pill").evaluate((el) => getComputedStyle(el, "::before").backgroundColor);

      kuma.addBeat(31, { status: 0, time: new Date(), ping: null });
      await runStatusChecks(t.deps);
      await until("the Kuma tile to turn down", async () => (await tile.getAttribute("data-state")) === "down");
      expect(await tile.textContent()).toContain("Uptime Kuma reports it down");
      const downColour = await tile.locator(".pill").evaluate((el) => getComputedStyle(el, "::before").backgroundColor);
      expect(downColour).not.toBe(upColour);
      // Red: the red channel dominates.
      const [r, g, b] = downColour.match(/\d+/g)!.map(Number);
      expect(r!).toBeGreaterThan(g! + 60);
      expect(r!).toBeGreaterThan(b! + 60);
      expect(page.url()).toBe(`${h.base}/status`);
      await context.close();
    } finally {
      await kuma.stop();
    }
  });

  test("the theme toggle switches data-theme and the choice survives a reload", { timeout: STEP_MS }, async () => {
    const context = await h.newContext(member, { colorScheme: "light" });
    const page = await context.newPage();
    await page.goto("/");
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme ?? null);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await theme()).toBeNull();
    const light = await background();
    await page.click("[data-theme-toggle]");
    expect(await theme()).toBe("dark");
    expect(await page.getAttribute("[data-theme-toggle]", "aria-pressed")).toBe("true");
    const dark = await background();
    expect(dark).not.toBe(light);
    await page.reload();
    expect(await theme()).toBe("dark");
    expect(await background()).toBe(dark);
    await page.click("[data-theme-toggle]");
    expect(await theme()).toBe("light");
    await page.reload();
    expect(await theme()).toBe("light");
    expect(await background()).toBe(light);
    await context.close();
  });

  test("keyboard: Tab reaches the skip link first, then the navigation, with a visible focus ring", {
    timeout: STEP_MS,
  }, async () => {
    const context = await h.newContext(admin);
    const page = await context.newPage();
    await page.goto("/");
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          text: (el.textContent ?? "").trim(),
          href: el.getAttribute("href"),
          inNav: Boolean(el.closest("nav.nav")),
          focusVisible: el.matches(":focus-visible"),
          outline: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth),
          onScreen: el.getBoundingClientRect().left >= 0,
        };
      });
    await page.keyboard.press("Tab");
    const skip = await focused();
    expect(skip).toMatchObject({ text: "Skip to content", href: "#main", focusVisible: true, onScreen: true });
    expect(skip.outline).not.toBe("none");
    expect(skip.outlineWidth).toBeGreaterThan(0);

    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      const f = await focused();
      expect(f.focusVisible).toBe(true);
      expect(f.outline).not.toBe("none");
      order.push(`${f.inNav ? "nav:" : ""}${f.href}`);
    }
    // The brand link (home), then the main navigation in order.
    expect(order).toEqual(["/", "nav:/", "nav:/discover", "nav:/requests", "nav:/downloads", "nav:/library"]);

    // The skip link moves focus to the main landmark.
    await page.goto("/");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await context.close();
  });

  test("the Users search filters as you type, without Enter", { timeout: STEP_MS }, async () => {
    await givenUser(t.deps, { username: "searchable-sam", displayName: "Samwise Searchable" });
    const context = await h.newContext(admin);
    const page = await context.newPage();
    await page.goto("/admin/users");
    const rows = page.locator("#users-table tbody tr");
    expect(await rows.count()).toBeGreaterThan(1);
    await page.getByLabel("Search").pressSequentially("samwise", { delay: 20 });
    await until("the table to hold only the match", async () => (await rows.count()) === 1);
    expect(await rows.first().textContent()).toContain("Samwise Searchable");
    expect(new URL(page.url()).searchParams.get("q")).toBe("samwise");
    await context.close();
  });

  test("times show in the viewer's time zone, with UTC in the title", { timeout: STEP_MS }, async () => {
    await audit(
      t.deps,
      { user: admin, ip: "192.0.2.7" },
      "signin.success",
      { type: "user", id: admin.id },
      {
        method: "password",
      },
    );
    const context = await h.newContext(admin, { locale: "en-GB", timezoneId: "Asia/Kolkata" });
    const page = await context.newPage();
    await page.goto("/admin/audit");
    const first = page.locator("table time").first();
    const at = new Date((await first.getAttribute("datetime"))!);
    // India is 5 h 30 min ahead of UTC all year.
    const local = new Date(at.getTime() + 5.5 * 3_600_000);
    const hhmm = `${String(local.getUTCHours()).padStart(2, "0")}:${String(local.getUTCMinutes()).padStart(2, "0")}`;
    const shown = (await first.textContent())!;
    expect(shown).toContain(hhmm);
    expect(shown).not.toContain("UTC");
    expect(await first.getAttribute("title")).toBe(`${at.toISOString().slice(0, 16).replace("T", " ")} UTC`);
    await context.close();
  });

  test("the Name field of a saved notification target looks like every other field", { timeout: STEP_MS }, async () => {
    await createNotificationTarget(t.deps, admin, {
      name: "Home automation webhook",
      events: ["announcement"],
      target: { kind: "webhook", config: { url: "http://127.0.0.1:9/hook" } },
    });
    const context = await h.newContext(admin);
    const page = await context.newPage();
    await page.goto("/account/notifications");
    const look = (selector: string) =>
      page
        .locator(selector)
        .first()
        .evaluate((el) => {
          const s = getComputedStyle(el);
          return {
            radius: s.borderRadius,
            minHeight: s.minHeight,
            padding: s.padding,
            width: el.getBoundingClientRect().width,
          };
        });
    const name = await look("#targets input[name='name']");
    const other = await look("main input[type='url'], main input[type='text']");
    expect(name.radius).toBe(other.radius);
    expect(name.minHeight).toBe(other.minHeight);
    expect(name.padding).toBe(other.padding);
    await context.close();
  });

  let realContent: Promise<{ longUser: User }> | undefined;
  /** What a lived-in install holds: long names, a saved target with failed deliveries, audit entries with details. */
  function givenRealContent() {
    realContent ??= makeRealContent();
    return realContent;
  }
  async function makeRealContent() {
    const longUser = await givenUser(t.deps, {
      username: "bartholomew.featherstonehaugh-wolfe",
      displayName: "Bartholomew Maximilian Featherstonehaugh-Wolfeschlegelsteinhausen",
      lastLoginAt: new Date(Date.now() - 3 * 86_400_000),
    });
    const target = await createNotificationTarget(t.deps, admin, {
      name: "Home Assistant automation webhook on the living-room server",
      events: ["announcement", "request.available"],
      target: {
        kind: "webhook",
        config: { url: "http://192.168.1.20:8123/api/webhook/medianest-notifications-with-a-long-identifier" },
      },
    });
    const now = new Date();
    await insertNotificationDeliveries(
      t.deps.database,
      [0, 1, 2].map((i) => ({
        id: crypto.randomUUID(),
        targetId: target.id,
        event: "request.available",
        payload: {
          title: "Dune",
          body: "Dune is ready",
          link: null,
          user: { id: admin.id, username: "owner", displayName: "Olivia Owner" },
        },
        status: i === 0 ? ("pending" as const) : ("failed" as const),
        attempts: i + 1,
        nextAttemptAt: new Date(now.getTime() + 600_000),
        lastError:
          "webhook: could not connect to 192.168.1.20:8123 (ECONNREFUSED: the receiving host refused the connection)",
        createdAt: new Date(now.getTime() - i * 60_000),
        sentAt: null,
      })),
    );
    await audit(
      t.deps,
      { user: admin, ip: "2001:db8:85a3:0:0:8a2e:370:7334" },
      "settings.change",
      { type: "settings", id: "integrations.plex" },
      {
        url: "http://plex-media-server.living-room.home.arpa:32400",
        machineIdentifier: "0123456789abcdef0123456789abcdef01234567",
        sections: 4,
        credentialsUpdated: true,
      },
    );
    await audit(t.deps, { ip: "203.0.113.250" }, "signin.failure", undefined, {
      method: "password",
      username: "bartholomew.featherstonehaugh-wolfe.typo",
    });
    return { longUser };
  }

  // Many pages, each shot at two widths: on a busy machine this step needs more than the others.
  test("screenshots of the pages with real content at phone and desktop width; nothing overflows at 360 px", {
    timeout: 4 * STEP_MS,
  }, async () => {
    await notify(t.deps, admin.id, {
      kind: "request.available",
      title: "The Expanse S06 is ready",
      body: "All 6 episodes are on Plex now.",
      link: "/",
    });
    await notify(t.deps, admin.id, {
      kind: "announcement",
      title: "Welcome to MediaNest",
      body: "Request movies and shows here; you will be told when they are ready.",
    });
    const { longUser } = await givenRealContent();
    const statusExists = (await t.request("/status", { headers: { cookie: await cookieFor(admin) } })).status === 200;
    // Each page in light and dark at phone width (measured) and in light at desktop width.
    const pages: { name: string; path: string; user?: User; then?: (page: Page) => Promise<void> }[] = [
      { name: "login", path: "/login" },
      { name: "home", path: "/", user: admin },
      { name: "notifications", path: "/notifications", user: admin },
      {
        name: "account",
        path: "/account",
        user: admin,
        // A token is shown once, right after it is made: the widest thing the page holds.
        then: async (page) => {
          await page.getByLabel("New token name").fill("Home Assistant on the living-room server");
          await page.getByRole("button", { name: "Create token" }).click();
          await page.locator("#new-token").waitFor();
        },
      },
      { name: "account-notifications", path: "/account/notifications", user: admin },
      { name: "admin", path: "/admin", user: admin },
      { name: "admin-users", path: "/admin/users", user: admin },
      { name: "admin-user", path: `/admin/users/${longUser.id}`, user: admin },
      { name: "admin-new-user", path: "/admin/new-user", user: admin },
      { name: "admin-settings", path: "/admin/settings/accounts", user: admin },
      { name: "admin-integrations", path: "/admin/integrations", user: admin },
      { name: "admin-jobs", path: "/admin/jobs", user: admin },
      { name: "admin-outbound", path: "/admin/notifications", user: admin },
      { name: "admin-audit", path: "/admin/audit", user: admin },
      ...(statusExists ? [{ name: "status", path: "/status", user: admin }] : []),
    ];
    if (!statusExists) console.warn("e2e: /status does not answer 200 yet; no status screenshots");
    const anonymous = await h.newContext();
    const signedIn = await h.newContext(admin);
    const overflow: string[] = [];
    for (const p of pages) {
      const page = await (p.user ? signedIn : anonymous).newPage();
      await page.setViewportSize(PHONE);
      const res = await page.goto(p.path);
      expect(res?.status()).toBe(200);
      await p.then?.(page);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > PHONE.width) overflow.push(`${p.path} (${scheme}): scrollWidth ${width}`);
        await page.screenshot({ path: join(SHOTS, `${p.name}-phone-${scheme}.png`), fullPage: true });
      }
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize(DESKTOP);
      await page.screenshot({ path: join(SHOTS, `${p.name}-desktop-light.png`), fullPage: true });
      await page.close();
    }
    expect(overflow).toEqual([]);
  });

  test("on a phone, the columns a wide table drops are still there: audit details and address, job schedule and next run", {
    timeout: STEP_MS,
  }, async () => {
    await givenRealContent();
    const context = await h.newContext(admin, { viewport: PHONE });
    const page = await context.newPage();
    const onScreen = (selector: string, text: string) =>
      page
        .locator(selector, { hasText: text })
        .first()
        .evaluate((el) => {
          const r = el.getBoundingClientRect();
          const s = getComputedStyle(el);
          return (
            r.width > 0 && r.height > 0 && s.visibility !== "hidden" && r.left >= 0 && r.right <= window.innerWidth
          );
        });
    await page.goto("/admin/audit");
    expect(await onScreen("main td", "2001:db8:85a3")).toBe(true);
    expect(await onScreen("main td", "0123456789abcdef0123456789abcdef01234567")).toBe(true);
    await page.goto("/admin/jobs");
    expect(await onScreen("main td", "Every minute")).toBe(true);
    const next = page.locator("main td time").last();
    expect(await next.isVisible()).toBe(true);
    await page.goto("/admin/users");
    expect(await onScreen("main td", "password")).toBe(true);
    await context.close();
  });

  async function cookieFor(user: User): Promise<string> {
    const { cookie } = await startSession(t.deps, user, { ip: "127.0.0.1", userAgent: "e2e" });
    return `${SESSION_COOKIE}=${cookie}`;
  }

  test("no console errors, uncaught errors or CSP violations on any page visited", () => {
    for (const path of ["/login", "/", "/notifications", "/account", "/admin", "/admin/users"])
      expect(h.visited).toContain(path);
    expect(h.problems).toEqual([]);
  });
});
