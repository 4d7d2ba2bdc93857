// What every browser suite needs: Chromium (skipped without it), the app served on a loopback port as `serve` serves
// it, fresh browser profiles signed in with a session cookie, a watcher of console errors, uncaught errors and CSP
// violations, the live stream's readiness, and polling that names what it waited for.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { SESSION_COOKIE, startSession } from "../../src/services/sessions";
import type { User } from "../../src/store/users";
import type { TestApp } from "../helpers/test-app";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);

export const DESKTOP = { width: 1280, height: 800 };

// Counts SSE connections and messages per page, and records CSP violations (window.__csp) and turns them into
// console errors the watcher sees. Init scripts are injected by the browser itself, so the page's CSP does not apply
// to them.
const INIT_SCRIPT = `
  window.__sse = { connections: 0, messages: 0 };
  window.__csp = [];
  document.addEventListener("htmx:sse:after:connection", () => { window.__sse.connections++; }, true);
  document.addEventListener("htmx:sse:after:message", () => { window.__sse.messages++; }, true);
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
    console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
  });
`;

/** Poll until check() holds; fail naming what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`e2e: timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** A page's trimmed text at a selector ("" when it has none). */
export const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();

export interface ContextOptions {
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
  locale?: string;
  timezoneId?: string;
}

export interface BrowserHarness {
  browser: Browser;
  /** The app's address, `http://127.0.0.1:<port>`. */
  base: string;
  /** Console errors, uncaught page errors and CSP violations on MediaNest's own pages. */
  problems: string[];
  /** The paths MediaNest's pages were navigated to. */
  visited: Set<string>;
  /** A fresh browser profile (no cookies, no storage), watched, signed in as `user` when given. */
  newContext(user?: User, opts?: ContextOptions): Promise<BrowserContext>;
  /** A page in a fresh profile of its own. */
  newPage(user?: User, opts?: ContextOptions): Promise<Page>;
  /** The page's live-stream counters. */
  sse(page: Page): Promise<{ connections: number; messages: number }>;
  /** Wait until the page's live stream delivered its first message, which the server sends after subscribing. */
  streamReady(page: Page, connections?: number): Promise<void>;
  /** Close the profiles, the browser and the server (not the app). */
  close(): Promise<void>;
}

/**
 * Serve the app on a loopback port and launch Chromium. Production serves with idleTimeout 60
 * (src/cli/serve.ts); the SSE heartbeat keeps streams inside it.
 */
export async function startBrowser(t: TestApp, opts: { streamWaitMs?: number } = {}): Promise<BrowserHarness> {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 60,
    fetch: (req, srv) => t.app.fetch(req, { server: srv }),
  });
  const base = `http://127.0.0.1:${server.port}`;
  const browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    })
    .catch(async (err) => {
      await server.stop(true);
      throw err;
    });
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const visited = new Set<string>();

  const watch = (page: Page) => {
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
  };

  const newContext = async (user?: User, o: ContextOptions = {}) => {
    const context = await browser.newContext({
      baseURL: base,
      viewport: o.viewport ?? DESKTOP,
      colorScheme: o.colorScheme ?? "light",
      locale: o.locale,
      timezoneId: o.timezoneId,
    });
    contexts.push(context);
    await context.addInitScript({ content: INIT_SCRIPT });
    context.on("page", watch);
    if (user) {
      const { cookie } = await startSession(t.deps, user, { ip: "127.0.0.1", userAgent: "e2e" });
      await context.addCookies([{ name: SESSION_COOKIE, value: cookie, url: base, httpOnly: true, sameSite: "Lax" }]);
    }
    return context;
  };

  const sse = (page: Page) =>
    page.evaluate(() => (window as unknown as { __sse: { connections: number; messages: number } }).__sse);

  return {
    browser,
    base,
    problems,
    visited,
    newContext,
    newPage: async (user, o) => (await newContext(user, o)).newPage(),
    sse,
    async streamReady(page, connections = 1) {
      let seen = { connections: 0, messages: 0 };
      await until(
        `the live stream of ${page.url()} (connection ${connections})`,
        async () => {
          seen = await sse(page);
          return seen.connections >= connections && seen.messages > 0;
        },
        opts.streamWaitMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; saw ${JSON.stringify(seen)}, ${t.deps.live.size} streams open on the server`);
      });
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await server.stop(true);
    },
  };
}
