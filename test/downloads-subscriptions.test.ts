// Subscriptions: a user subscribes to a channel; the singleton job queues only videos it has not seen, within the
// user's quotas; pause, resume and remove; only the owner sees and changes one. Real yt-dlp against a local site.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveDownloadSettings } from "../src/services/download-settings";
import { checkSubscription } from "../src/services/download-subscriptions";
import { createDownloadWorkers, type DownloadWorkers } from "../src/services/download-worker";
import { saveLibraries } from "../src/services/integrations";
import { findDownloadById, listDownloadItems, listDownloadSummaries } from "../src/store/downloads";
import {
  deleteSubscription,
  insertSubscription,
  listDueSubscriptions,
  listSubscriptions,
  markSeen,
  seenRemoteIds,
  updateSubscription,
} from "../src/store/subscriptions";
import type { User } from "../src/store/users";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import { postgresAvailable } from "./helpers/services";
import { createTestApp, type Dialect, givenUser, signIn, type TestApp } from "./helpers/test-app";

const ytdlp = Bun.which("yt-dlp") !== null && Bun.which("ffmpeg") !== null;
const SUBSCRIBER = ["download", "auto_approve_downloads", "subscribe_channels"] as const;

describe.skipIf(!ytdlp)("download subscriptions", () => {
  let t: TestApp;
  let site: MediaSite;
  let library: string;
  let workers: DownloadWorkers | undefined;

  beforeAll(async () => {
    site = await startMediaSite();
    t = await createTestApp();
    await givenUser(t.deps, { role: "admin" });
    library = mkdtempSync(join(tmpdir(), "medianest-library-"));
    await saveLibraries(t.deps, [{ sectionKey: "7", title: "YouTube", type: "movie", folder: library }]);
    await saveDownloadSettings(t.deps, { allowedHosts: [site.host], minFreeBytes: 0, subscriptionCheckMinutes: 30 });
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
    site.setChannel(["/clip.mp4", "/other.mp4"]);
  });
  afterAll(async () => {
    await t.close();
    await site.stop();
    rmSync(library, { recursive: true, force: true });
  });

  async function subscribed(user: User) {
    const browser = await signIn(t, user);
    const res = await browser.post("/downloads/subscriptions", {
      op: "subscribe",
      url: `${site.url}/channel.html`,
      quality: "best",
      sectionKey: "7",
    });
    expect(res.status).toBe(303);
    const [sub] = await listSubscriptions(t.deps.database, user.id);
    return { browser, sub: sub! };
  }

  async function makeDue(id: string) {
    await updateSubscription(t.deps.database, id, { checkDueAt: new Date(Date.now() - 1000) });
  }

  async function downloadsOf(user: User) {
    return listDownloadSummaries(t.deps.database, { userId: user.id, limit: 50 });
  }

  test("subscribing counts what is there as seen; the job queues only new videos, once, and they download", async () => {
    const user = await givenUser(t.deps, { permissions: [...SUBSCRIBER] });
    const { browser, sub } = await subscribed(user);
    expect(sub).toMatchObject({ title: "A Channel", status: "active", queuedCount: 0 });
    // The next check is the admin's interval away.
    expect(sub.checkDueAt.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const page = await (await browser.get("/downloads/subscriptions?done=subscribed")).text();
    expect(page).toContain("A Channel");
    expect(page).toContain("Subscribed.");
    expect(page).toContain("every 30 min");
    expect(await downloadsOf(user)).toHaveLength(0);

    // Nothing new: the job queues nothing.
    await makeDue(sub.id);
    expect(await t.deps.jobs.runNow("download-subscriptions")).toBe("ok");
    expect(await downloadsOf(user)).toHaveLength(0);

    // A new upload appears at the end of the channel.
    site.setChannel(["/clip.mp4", "/other.mp4", "/clip.mp4?v=3"]);
    await makeDue(sub.id);
    expect(await t.deps.jobs.runNow("download-subscriptions")).toBe("ok");
    const [queued, ...rest] = await downloadsOf(user);
    expect(rest).toHaveLength(0);
    expect(queued!.download).toMatchObject({ kind: "video", status: "queued", itemCount: 1 });
    const [item] = await listDownloadItems(t.deps.database, queued!.download.id);
    // This site lists no link per video: the video is fetched by its place on the channel's page.
    expect(item).toMatchObject({ url: null, playlistIndex: 3 });
    const [after] = await listSubscriptions(t.deps.database, user.id);
    expect(after).toMatchObject({ queuedCount: 1, lastError: null });
    expect(after!.checkDueAt.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);

    // Checked again: the video is seen, nothing more is queued.
    await makeDue(sub.id);
    await t.deps.jobs.runNow("download-subscriptions");
    expect(await downloadsOf(user)).toHaveLength(1);

    // A worker downloads the one video (the third), into the channel's folder.
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100 });
    await workers.start();
    const end = Date.now() + 45_000;
    let done = await findDownloadById(t.deps.database, queued!.download.id);
    while (done && !["completed", "failed"].includes(done.status) && Date.now() < end) {
      await Bun.sleep(100);
      done = await findDownloadById(t.deps.database, queued!.download.id);
    }
    expect(done?.status).toBe("completed");
    const [file] = await listDownloadItems(t.deps.database, queued!.download.id);
    expect(file!.filePath).toContain("[channel-3]");
    expect(existsSync(file!.filePath!)).toBe(true);
  }, 150_000);

  test("new videos beyond the hourly quota wait, unseen, and the subscription says why", async () => {
    const user = await givenUser(t.deps, { permissions: [...SUBSCRIBER], downloadsPerHour: 1 });
    const { sub } = await subscribed(user);
    site.setChannel(["/clip.mp4", "/other.mp4", "/clip.mp4?v=3", "/clip.mp4?v=4"]);
    const r = await checkSubscription(t.deps, sub);
    expect(r.queued).toBe(1);
    expect(r.error).toContain("1 new, waiting for your quota");
    expect(r.error).toContain("your limit is 1");
    expect(await downloadsOf(user)).toHaveLength(1);
    // Still within the hour: the held video stays unseen and unqueued.
    expect((await checkSubscription(t.deps, sub)).queued).toBe(0);
    const page = await (await (await signIn(t, user)).get("/downloads/subscriptions")).text();
    expect(page).toContain("waiting for your quota");
  }, 120_000);

  test("a member without auto-approval gets downloads that wait for an admin", async () => {
    const user = await givenUser(t.deps, { permissions: ["download", "subscribe_channels"] });
    const { sub } = await subscribed(user);
    site.setChannel(["/clip.mp4", "/other.mp4", "/clip.mp4?v=3"]);
    expect((await checkSubscription(t.deps, sub)).queued).toBe(1);
    const [d] = await downloadsOf(user);
    expect(d!.download.status).toBe("awaiting_approval");
  }, 120_000);

  test("pause keeps the job away, resume brings it back; remove deletes; another user's is a 404", async () => {
    const user = await givenUser(t.deps, { permissions: [...SUBSCRIBER] });
    const { browser, sub } = await subscribed(user);
    const pause = await browser.post("/downloads/subscriptions", { op: "pause", subscription: sub.id });
    expect(pause.status).toBe(303);
    site.setChannel(["/clip.mp4", "/other.mp4", "/clip.mp4?v=3"]);
    await makeDue(sub.id);
    await t.deps.jobs.runNow("download-subscriptions");
    expect(await downloadsOf(user)).toHaveLength(0);
    expect((await browser.get("/downloads/subscriptions")).status).toBe(200);
    expect(await (await browser.get("/downloads/subscriptions")).text()).toContain("Resume");

    const stranger = await signIn(t, await givenUser(t.deps, { permissions: [...SUBSCRIBER] }));
    expect((await stranger.post("/downloads/subscriptions", { op: "remove", subscription: sub.id })).status).toBe(404);
    expect((await stranger.post("/downloads/subscriptions", { op: "resume", subscription: sub.id })).status).toBe(404);
    expect(await (await stranger.get("/downloads/subscriptions")).text()).not.toContain(sub.id);

    expect((await browser.post("/downloads/subscriptions", { op: "resume", subscription: sub.id })).status).toBe(303);
    await t.deps.jobs.runNow("download-subscriptions");
    expect(await downloadsOf(user)).toHaveLength(1);

    expect((await browser.post("/downloads/subscriptions", { op: "remove", subscription: sub.id })).status).toBe(303);
    expect(await listSubscriptions(t.deps.database, user.id)).toHaveLength(0);
    // The download it queued stays.
    expect(await downloadsOf(user)).toHaveLength(1);
  }, 120_000);

  test("refusals: no permission (403), a single video, the same link twice, a bad form (422)", async () => {
    const plain = await signIn(t, await givenUser(t.deps, { permissions: ["download"] }));
    expect(await (await plain.get("/downloads/subscriptions")).text()).toContain("may not subscribe to channels");
    const refused = await plain.post("/downloads/subscriptions", {
      op: "subscribe",
      url: `${site.url}/channel.html`,
      quality: "best",
      sectionKey: "7",
    });
    expect(refused.status).toBe(403);

    const user = await givenUser(t.deps, { permissions: [...SUBSCRIBER] });
    const { browser } = await subscribed(user);
    const video = await browser.post("/downloads/subscriptions", {
      op: "subscribe",
      url: `${site.url}/clip.mp4`,
      quality: "best",
      sectionKey: "7",
    });
    expect(video.status).toBe(422);
    expect(await video.text()).toContain("This link is one video");
    const twice = await browser.post("/downloads/subscriptions", {
      op: "subscribe",
      url: `${site.url}/channel.html`,
      quality: "best",
      sectionKey: "7",
    });
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain("subscribed to this link already");
    const bad = await browser.post("/downloads/subscriptions", { op: "subscribe", url: "", quality: "8k" });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('id="f-url-error"');
    expect(html).toContain("Pick one of the qualities offered.");
    const local = await browser.post("/downloads/subscriptions", {
      op: "subscribe",
      url: "file:///etc/passwd",
      quality: "best",
      sectionKey: "7",
    });
    expect(local.status).toBe(422);
    expect((await browser.get("/downloads/nothing")).status).toBe(404);
  }, 120_000);

  test("the downloads page links the subscriptions for those who may subscribe", async () => {
    const yes = await signIn(t, await givenUser(t.deps, { permissions: [...SUBSCRIBER] }));
    expect(await (await yes.get("/downloads")).text()).toContain('href="/downloads/subscriptions"');
    const no = await signIn(t, await givenUser(t.deps, { permissions: ["download"] }));
    expect(await (await no.get("/downloads")).text()).not.toContain('href="/downloads/subscriptions"');
  });
});

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable)(`subscription rows on ${dialect}`, () => {
    test("one per user and link; seen videos recorded once; due ones listed; counts added", async () => {
      const t = await createTestApp({ dialect });
      try {
        const u = await givenUser(t.deps);
        const now = new Date();
        const row = {
          id: crypto.randomUUID(),
          userId: u.id,
          url: "https://www.youtube.com/@x/videos",
          title: "X",
          quality: "best",
          sectionKey: "7",
          status: "active" as const,
          checkDueAt: new Date(now.getTime() - 1000),
          queuedCount: 0,
          createdAt: now,
          updatedAt: now,
        };
        expect(await insertSubscription(t.deps.database, row, ["a", "b", "a"])).toBe(true);
        expect(await insertSubscription(t.deps.database, { ...row, id: crypto.randomUUID() }, [])).toBe(false);
        await markSeen(t.deps.database, row.id, ["b", "c"], now);
        expect([...(await seenRemoteIds(t.deps.database, row.id, ["a", "c", "d"]))].sort()).toEqual(["a", "c"]);
        expect((await listDueSubscriptions(t.deps.database, now, 10)).map((s) => s.id)).toEqual([row.id]);
        await updateSubscription(t.deps.database, row.id, {
          addQueued: 2,
          checkDueAt: new Date(now.getTime() + 60_000),
        });
        await updateSubscription(t.deps.database, row.id, { addQueued: 1 });
        expect(await listDueSubscriptions(t.deps.database, now, 10)).toEqual([]);
        expect((await listSubscriptions(t.deps.database, u.id))[0]?.queuedCount).toBe(3);
        expect(await deleteSubscription(t.deps.database, row.id, crypto.randomUUID())).toBe(false);
        expect(await deleteSubscription(t.deps.database, row.id, u.id)).toBe(true);
        expect(await seenRemoteIds(t.deps.database, row.id, ["a"])).toEqual(new Set());
      } finally {
        await t.close();
      }
    });
  });
}
