// Faults a download meets: the disk filling up mid-download (a real, small tmpfs) fails that download with a
// clear reason and pauses the queue until space is back; yt-dlp missing keeps the queue and says so on the pages.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveDownloadSettings } from "../src/services/download-settings";
import { createDownloadWorkers, readQueuePause, workDirFor } from "../src/services/download-worker";
import { previewDownload, queueDownload } from "../src/services/downloads";
import { saveLibraries, saveYtdlpPath } from "../src/services/integrations";
import { findDownloadById, listDownloadItems } from "../src/store/downloads";
import type { User } from "../src/store/users";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const ytdlp = Bun.which("yt-dlp") !== null && Bun.which("ffmpeg") !== null;
const canMount = await (async () => {
  if (process.getuid?.() !== 0 || !Bun.which("mount")) return false;
  const dir = mkdtempSync(join(tmpdir(), "medianest-mount-"));
  const ok = (await Bun.$`mount -t tmpfs -o size=1m tmpfs ${dir}`.quiet().nothrow()).exitCode === 0;
  if (ok) await Bun.$`umount ${dir}`.quiet().nothrow();
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();
if (!canMount) console.warn("downloads-faults: no tmpfs mount here (needs root); the disk-full test is SKIPPED");

async function until<T>(what: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(50);
  }
}

describe.skipIf(!ytdlp)("download faults", () => {
  let t: TestApp;
  let site: MediaSite;
  let admin: User;

  beforeAll(async () => {
    site = await startMediaSite();
    t = await createTestApp();
    admin = await givenUser(t.deps, { role: "admin" });
  });
  afterAll(async () => {
    await t.close();
    await site.stop();
  });

  const lib = (folder: string) => ({ sectionKey: "7", title: "YouTube", type: "movie", folder });

  test.skipIf(!canMount)(
    "the disk filling up mid-download fails that download, pauses the queue, and the next waits until space is back",
    async () => {
      const folder = mkdtempSync(join(tmpdir(), "medianest-small-disk-"));
      await Bun.$`mount -t tmpfs -o size=4m tmpfs ${folder}`.quiet();
      const workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100 });
      try {
        await saveLibraries(t.deps, [lib(folder)]);
        await saveDownloadSettings(t.deps, { allowedHosts: [site.host], minFreeBytes: 1024 * 1024 });
        site.setRate(64 * 1024);
        const slow = await previewDownload(t.deps, admin, `${site.url}/slow.html`);
        const clip = await previewDownload(t.deps, admin, `${site.url}/clip.mp4`);
        const first = await queueDownload(t.deps, admin, slow, {
          quality: "best",
          library: lib(folder),
          status: "queued",
        });
        await workers.start();
        const [item] = await listDownloadItems(t.deps.database, first.id);
        // Once yt-dlp is writing, something else takes the rest of the disk.
        await until(async () => {
          const dir = workDirFor(folder, item!.id);
          return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".part"));
        });
        const s = statfsSync(folder);
        writeFileSync(join(folder, "filler"), new Uint8Array(Math.max(0, s.bavail * s.bsize - 32 * 1024)));
        const second = await queueDownload(t.deps, admin, clip, {
          quality: "best",
          library: lib(folder),
          status: "queued",
        });

        const failed = await until(async () => {
          const d = await findDownloadById(t.deps.database, first.id);
          return d?.status === "failed" ? d : undefined;
        });
        const [why] = await listDownloadItems(t.deps.database, first.id);
        expect(why!.error).toContain("The disk is full");
        expect(why!.error).toContain("The queue is paused until space is free");
        expect(failed.status).toBe("failed");
        expect(existsSync(workDirFor(folder, item!.id))).toBe(false);
        const pause = await readQueuePause(t.deps);
        expect(pause?.reason).toContain(`The disk under ${folder} filled up during a download`);

        // The next download is not failed too: it waits while the disk is full, and the pages say why.
        await Bun.sleep(1000);
        expect((await findDownloadById(t.deps.database, second.id))?.status).toBe("queued");
        const page = await (await (await signIn(t, admin)).get("/downloads")).text();
        expect(page).toContain("filled up during a download");

        // Space comes back: the queue goes on by itself.
        rmSync(join(folder, "filler"));
        const done = await until(async () => {
          const d = await findDownloadById(t.deps.database, second.id);
          return d?.status === "completed" ? d : undefined;
        });
        expect(done.status).toBe("completed");
        expect(await readQueuePause(t.deps)).toBeUndefined();
      } finally {
        await workers.stop();
        await Bun.$`umount -l ${folder}`.quiet().nothrow();
        rmSync(folder, { recursive: true, force: true });
      }
    },
    120_000,
  );

  test("yt-dlp missing: the download stays queued with the reason, and the pages say so", async () => {
    const folder = mkdtempSync(join(tmpdir(), "medianest-library-"));
    const workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100 });
    try {
      await saveLibraries(t.deps, [lib(folder)]);
      await saveDownloadSettings(t.deps, { allowedHosts: [site.host], minFreeBytes: 0 });
      const clip = await previewDownload(t.deps, admin, `${site.url}/other.mp4`);
      await saveYtdlpPath(t.deps, "/nonexistent/yt-dlp");
      const d = await queueDownload(t.deps, admin, clip, { quality: "best", library: lib(folder), status: "queued" });
      await workers.start();
      const item = await until(async () => {
        const [i] = await listDownloadItems(t.deps.database, d.id);
        return i?.error ? i : undefined;
      });
      expect(item.status).toBe("queued");
      expect(item.error).toContain("yt-dlp not found at /nonexistent/yt-dlp");
      expect(item.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
      const browser = await signIn(t, admin);
      const page = await (await browser.get("/downloads")).text();
      expect(page).toContain("yt-dlp not found at /nonexistent/yt-dlp");
      expect(page).toContain("downloads wait in the queue");
      const member = await signIn(t, await givenUser(t.deps));
      expect(await (await member.get("/downloads")).text()).toContain("the downloader is not installed");
      const settings = await (await browser.get("/admin/download-settings")).text();
      expect(settings).toContain("yt-dlp not found at /nonexistent/yt-dlp");
      expect(settings).toContain("Downloads wait in the queue until it works again.");
    } finally {
      await workers.stop();
      await saveYtdlpPath(t.deps, "yt-dlp");
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
