// A download from the browser's side, in a real Chromium against real yt-dlp and the local media site: paste a link,
// see the preview, pick quality and library, confirm, watch the progress bar move over the live stream, see it
// completed and the notification arrive, all without a reload; and cancel a running download from the page, which
// removes its partial file. No console error or CSP violation on the way. Without Chromium or yt-dlp it is SKIPPED.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { saveDownloadSettings } from "../../src/services/download-settings";
import { createDownloadWorkers, type DownloadWorkers, workDirFor } from "../../src/services/download-worker";
import { saveLibraries } from "../../src/services/integrations";
import { listDownloadItems, listDownloadSummaries } from "../../src/store/downloads";
import type { User } from "../../src/store/users";
import { type MediaSite, startMediaSite } from "../fakes/media-site";
import { createTestApp, givenUser, type TestApp } from "../helpers/test-app";
import { type BrowserHarness, CHROMIUM, haveChromium, startBrowser, until } from "./harness";

const ready = haveChromium && Bun.which("yt-dlp") !== null && Bun.which("ffmpeg") !== null;
if (!ready) console.warn(`e2e downloads: needs ${CHROMIUM}, yt-dlp and ffmpeg; the suite is SKIPPED`);

const STEP_MS = 45_000;
// A download takes longer than a page: each wait gets 10 s.
const WAIT_MS = 10_000;
const wait = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS) =>
  until(what, check, timeoutMs);

describe.skipIf(!ready)("downloads in Chromium", () => {
  let t: TestApp;
  let site: MediaSite;
  let h: BrowserHarness;
  let workers: DownloadWorkers;
  let member: User;
  let videos: string;
  let kids: string;

  beforeAll(async () => {
    site = await startMediaSite();
    t = await createTestApp({ logLines: [] });
    videos = mkdtempSync(join(tmpdir(), "medianest-e2e-videos-"));
    kids = mkdtempSync(join(tmpdir(), "medianest-e2e-kids-"));
    await saveLibraries(t.deps, [
      { sectionKey: "7", title: "YouTube", type: "movie", folder: videos },
      { sectionKey: "9", title: "Kids", type: "movie", folder: kids },
    ]);
    await saveDownloadSettings(t.deps, { allowedHosts: [site.host], minFreeBytes: 0 });
    // An admin exists, so the pages are past the first-run setup.
    await givenUser(t.deps, { role: "admin", username: "owner" });
    member = await givenUser(t.deps, {
      username: "maria",
      displayName: "Maria Member",
      permissions: ["request", "download", "auto_approve_downloads"],
    });
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 200, progressIntervalMs: 250 });
    await workers.start();
    h = await startBrowser(t, { streamWaitMs: WAIT_MS });
  });

  afterAll(async () => {
    await h?.close();
    await workers?.stop();
    await t?.close();
    await site?.stop();
    for (const dir of [videos, kids]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Mark the document; a reload or a navigation loses the mark. */
  const mark = (page: Page) => page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
  const marked = (page: Page) => page.evaluate(() => (window as unknown as { __mark?: number }).__mark === 42);

  async function preview(page: Page, path: string) {
    await page.getByLabel("Link").fill(`${site.url}${path}`);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.locator("form.dl-preview").waitFor();
  }

  test("paste, preview, pick quality and library, confirm; the bar moves live, then completed and the notice", {
    timeout: STEP_MS,
  }, async () => {
    // About 440 KB at 96 KiB/s: some five seconds of progress for the stream to show.
    site.setRate(96 * 1024);
    const page = await h.newPage(member);
    await page.goto("/downloads");
    await h.streamReady(page);
    await mark(page);
    expect(await page.locator("#bell-count").textContent()).toBe("");

    await preview(page, "/slow.html");
    const card = page.locator("form.dl-preview");
    expect(await card.locator(".dl-title").textContent()).toContain("Slow Clip");
    await card.getByLabel("Quality").selectOption("720");
    await card.getByLabel("Library").selectOption({ label: "Kids" });
    await card.getByRole("button", { name: "Download" }).click();
    await page.getByText("Queued. Its progress shows below.").waitFor();
    expect(await page.getByLabel("Link").inputValue()).toBe("");

    const item = page.locator("#download-list li.dl-item", { hasText: "Slow Clip" });
    await item.waitFor({ timeout: 5000 });
    // Sample the bar as the stream replaces it: its value must rise at least twice.
    const seen: number[] = [];
    await wait(
      "the progress bar to rise twice",
      async () => {
        const now = await item
          .locator("[role=progressbar]")
          .getAttribute("aria-valuenow", { timeout: 1000 })
          .catch(() => null);
        const status = await item.getAttribute("data-status").catch(() => null);
        if (status === "completed") throw new Error(`e2e: completed before the bar rose twice; saw ${seen}`);
        if (now !== null && Number(now) !== seen.at(-1)) seen.push(Number(now));
        return seen.filter((v, i) => i > 0 && v > seen[i - 1]!).length >= 2;
      },
      20_000,
    );
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(await item.locator(".dl-facts").textContent()).toMatch(/\d+ %/);

    await wait(
      "the download to show completed",
      async () => (await item.getAttribute("data-status")) === "completed",
      30_000,
    );
    expect(await item.locator(".pill").textContent()).toBe("Completed");
    expect(await item.textContent()).toContain("Kids");
    await wait("the bell to show 1", async () => (await page.locator("#bell-count").textContent()) === "1");
    const toast = page.locator("#toasts .toast", { hasText: "Download finished" });
    await toast.waitFor({ timeout: 5000 });
    expect(await toast.textContent()).toContain("Slow Clip (1) is in your library.");
    expect(await marked(page)).toBe(true);

    // The file went into the picked library with the picked quality.
    const [summary] = await listDownloadSummaries(t.deps.database, { userId: member.id, limit: 1 });
    expect(summary!.download).toMatchObject({ quality: "720", sectionKey: "9", status: "completed" });
    const [done] = await listDownloadItems(t.deps.database, summary!.download.id);
    expect(done!.filePath!.startsWith(`${kids}/`)).toBe(true);
    expect(existsSync(done!.filePath!)).toBe(true);
    expect(readdirSync(videos)).toEqual([]);
  });

  test("cancel in the page stops a running download and removes its partial file", { timeout: STEP_MS }, async () => {
    // Slow enough that the download is still running when the button is pressed.
    site.setRate(32 * 1024);
    const page = await h.newPage(member);
    await page.goto("/downloads");
    await h.streamReady(page);
    await mark(page);
    await preview(page, "/slow.html");
    await page.locator("form.dl-preview").getByRole("button", { name: "Download" }).click();
    await page.getByText("Queued. Its progress shows below.").waitFor();

    const [summary] = await listDownloadSummaries(t.deps.database, { userId: member.id, limit: 1 });
    const id = summary!.download.id;
    const [row] = await listDownloadItems(t.deps.database, id);
    const dir = workDirFor(summary!.download.folder, row!.id);
    await wait(
      "yt-dlp to write a partial file",
      () => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".part")),
      20_000,
    );
    const item = page.locator(`#dl-${id}`);
    await wait("the bar to show a percentage", async () => {
      const v = await item
        .locator("[role=progressbar]")
        .getAttribute("aria-valuenow", { timeout: 1000 })
        .catch(() => null);
      return v !== null;
    });

    await item.getByRole("button", { name: "Cancel" }).click();
    await wait("the download to show cancelled", async () => (await item.getAttribute("data-status")) === "cancelled");
    expect(await item.locator(".pill").textContent()).toBe("Cancelled");
    await wait("the partial file to go", () => !existsSync(dir));
    await wait("the worker to let go", () => workers.active() === 0);
    const [after] = await listDownloadItems(t.deps.database, id);
    expect(after).toMatchObject({ status: "cancelled", filePath: null });
    expect(readdirSync(summary!.download.folder).filter((f) => !f.startsWith("."))).toEqual([]);
    expect(await marked(page)).toBe(true);
  });

  test("no console errors, uncaught errors or CSP violations on the way", () => {
    expect(h.problems).toEqual([]);
  });
});
