// The durable download queue: claims (fair, leased, fenced) on both databases, and workers running real yt-dlp
// against a local site: files in the library, playlists in order, cancel, stall, retry, and a worker killed mid-download.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { groupAlive, killGroup } from "../src/integrations/ytdlp/client";
import { stopDownloadWorkers } from "../src/jobs/download-queue";
import { PLEX_WAIT } from "../src/services/download-finish";
import { plexWebUrl } from "../src/services/plex-links";
import { saveDownloadSettings } from "../src/services/download-settings";
import { createDownloadWorkers, type DownloadWorkers, workDirFor } from "../src/services/download-worker";
import { cancelDownload, previewDownload, queueDownload } from "../src/services/downloads";
import { topics } from "../src/services/events";
import { saveLibraries, savePlexIntegration } from "../src/services/integrations";
import {
  claimDownloadItems,
  countDownloads,
  extendItemLease,
  finishClaimedItem,
  findDownloadById,
  insertDownload,
  listDownloadItems,
  listDownloadSummaries,
  queueHealth,
  refreshDownloadStatus,
  storedBytesByUser,
  updateClaimedItem,
} from "../src/store/downloads";
import { listNotifications } from "../src/store/notifications";
import type { User } from "../src/store/users";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import { type FakePlexServer, plexMovie, plexSection, startFakePlexServer } from "./fakes/plex-server";
import { postgresAvailable } from "./helpers/services";
import { createTestApp, type Dialect, givenUser, signIn, type TestApp } from "./helpers/test-app";

const ytdlp = Bun.which("yt-dlp") !== null && Bun.which("ffmpeg") !== null;

async function givenDownload(t: TestApp, user: User, items: number, at: Date): Promise<string> {
  const id = crypto.randomUUID();
  await insertDownload(
    t.deps.database,
    {
      id,
      userId: user.id,
      url: "https://www.youtube.com/playlist?list=x",
      kind: items > 1 ? "playlist" : "video",
      remoteId: id,
      title: `Download of ${user.username}`,
      quality: "best",
      sectionKey: "1",
      folder: "/nowhere",
      status: "queued",
      itemCount: items,
      createdAt: at,
      updatedAt: at,
    },
    Array.from({ length: items }, (_, i) => ({
      id: `${id}-${i + 1}`,
      downloadId: id,
      userId: user.id,
      position: i + 1,
      remoteId: `v${i + 1}`,
      title: `Video ${i + 1}`,
      url: `https://www.youtube.com/watch?v=${i + 1}`,
      status: "queued" as const,
      attempts: 0,
      nextAttemptAt: at,
      createdAt: at,
    })),
  );
  return id;
}

function claimOne(t: TestApp, now: Date, leaseMs = 60_000) {
  return claimDownloadItems(t.deps.database, { now, leaseUntil: new Date(now.getTime() + leaseMs), limit: 1 });
}

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable)(`download claims on ${dialect}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ dialect });
    });
    afterAll(async () => {
      await t.close();
    });

    test("fairness: another user's single video starts within one worker turn of a 50-item playlist", async () => {
      const a = await givenUser(t.deps);
      const b = await givenUser(t.deps);
      const t0 = new Date(Date.now() - 60_000);
      const playlist = await givenDownload(t, a, 50, t0);
      const single = await givenDownload(t, b, 1, new Date(t0.getTime() + 1000));
      // One worker: the playlist's first video (oldest), then the other user's video, then the playlist again.
      const first = await claimOne(t, new Date());
      expect(first.map((c) => c.item.downloadId)).toEqual([playlist]);
      await finishClaimedItem(t.deps.database, first[0]!.item, {
        status: "completed",
        at: new Date(),
        filePath: "/nowhere/x",
        bytes: 1,
      });
      const second = await claimOne(t, new Date());
      expect(second.map((c) => c.item.downloadId)).toEqual([single]);
      const third = await claimOne(t, new Date());
      expect(third.map((c) => c.item.position)).toEqual([2]);
      // Two workers at once: the second claim goes to the user with nothing running.
      const c = await givenUser(t.deps);
      const other = await givenDownload(t, c, 1, new Date(t0.getTime() + 2000));
      const fourth = await claimOne(t, new Date());
      expect(fourth.map((x) => x.item.downloadId)).toEqual([other]);
    });

    test("the pages' reads: a page of one user's, of one status and of everyone's, the counts, health and storage", async () => {
      const fresh = await createTestApp({ dialect });
      try {
        const a = await givenUser(fresh.deps, { username: "reader-a" });
        const b = await givenUser(fresh.deps, { username: "reader-b" });
        const t0 = new Date(Date.now() - 3_600_000);
        const ids: string[] = [];
        for (let n = 0; n < 5; n++)
          ids.push(await givenDownload(fresh, n % 2 ? b : a, 1, new Date(t0.getTime() + n * 1000)));
        const db = fresh.deps.database;
        const [done] = await claimOne(fresh, new Date());
        await finishClaimedItem(db, done!.item, {
          status: "completed",
          at: new Date(),
          filePath: "/nowhere/f",
          bytes: 7,
        });
        expect((await listDownloadSummaries(db, { userId: a.id, limit: 2 })).map((s) => s.download.id)).toEqual(
          [4, 2].map((n) => ids[n]!),
        );
        expect(
          (await listDownloadSummaries(db, { userId: a.id, limit: 2, offset: 2 })).map((s) => s.download.id),
        ).toEqual([ids[0]!]);
        expect((await listDownloadSummaries(db, { limit: 10 })).map((s) => s.download.id)).toEqual([...ids].reverse());
        expect(
          (await listDownloadSummaries(db, { limit: 10, statuses: ["queued"] })).map((s) => s.download.id),
        ).toEqual([...ids].reverse());
        expect(await listDownloadSummaries(db, { limit: 10, statuses: ["awaiting_approval"] })).toEqual([]);
        expect(await countDownloads(db, { userId: b.id })).toBe(2);
        expect(await countDownloads(db)).toBe(5);
        const health = await queueHealth(db, new Date());
        expect(health.counts).toMatchObject({ queued: 4, completed: 1, downloading: 0 });
        expect(health.oldestQueuedAt?.getTime()).toBe(t0.getTime() + 1000);
        expect([...(await storedBytesByUser(db)).entries()]).toEqual([[a.id, 7]]);
      } finally {
        await fresh.close();
      }
    });

    test("a lapsed lease is taken over; the first claimer's heartbeat and outcome are fenced out", async () => {
      const u = await givenUser(t.deps);
      await givenDownload(t, u, 1, new Date(Date.now() - 3_600_000 * 24 * 365));
      const now = new Date();
      const [held] = await claimOne(t, now, 1000);
      expect(held!.item).toMatchObject({ status: "downloading", attempts: 1 });
      // While the lease holds, nobody else gets the item; a heartbeat extends it.
      expect((await claimOne(t, new Date(now.getTime() + 500))).map((c) => c.item.id)).not.toContain(held!.item.id);
      expect(await extendItemLease(t.deps.database, held!.item, new Date(now.getTime() + 2000))).toBe(true);
      expect((await claimOne(t, new Date(now.getTime() + 1500))).map((c) => c.item.id)).not.toContain(held!.item.id);
      // The lease runs out: the next claimer takes the item over, and the first one's writes no longer land.
      const later = new Date(now.getTime() + 2500);
      const taken = await claimDownloadItems(t.deps.database, {
        now: later,
        leaseUntil: new Date(later.getTime() + 60_000),
        limit: 10,
      });
      const again = taken.find((c) => c.item.id === held!.item.id);
      expect(again?.item.attempts).toBe(2);
      expect(await extendItemLease(t.deps.database, held!.item, new Date(later.getTime() + 5000))).toBe(false);
      expect(await finishClaimedItem(t.deps.database, held!.item, { status: "failed", at: later, error: "late" })).toBe(
        false,
      );
      expect(
        await finishClaimedItem(t.deps.database, again!.item, {
          status: "completed",
          at: later,
          filePath: "/x",
          bytes: 1,
        }),
      ).toBe(true);
      const refreshed = await refreshDownloadStatus(t.deps.database, held!.download.id, later);
      expect(refreshed).toMatchObject({ becameFinal: true, download: { status: "completed" } });
      expect((await refreshDownloadStatus(t.deps.database, held!.download.id, later))?.becameFinal).toBe(false);
    });

    if (dialect === "postgres") {
      test("claimers on two pools at once never get the same item", async () => {
        const { openPostgres } = await import("../src/db/database");
        const u = await givenUser(t.deps);
        const v = await givenUser(t.deps);
        const old = new Date(Date.now() - 3_600_000 * 24 * 400);
        await givenDownload(t, u, 30, old);
        await givenDownload(t, v, 30, old);
        const url = (t.config.databaseUrl as string).toString();
        const pools = await Promise.all([openPostgres(url, { max: 4 }), openPostgres(url, { max: 4 })]);
        try {
          const now = new Date();
          const got = await Promise.all(
            Array.from({ length: 16 }, (_, i) =>
              claimDownloadItems(pools[i % 2]!, { now, leaseUntil: new Date(now.getTime() + 60_000), limit: 3 }),
            ),
          );
          const ids = got.flat().map((c) => c.item.id);
          expect(ids.length).toBeGreaterThan(0);
          expect(new Set(ids).size).toBe(ids.length);
        } finally {
          await Promise.all(pools.map((p) => p.close()));
        }
      });
    }
  });
}

describe.skipIf(!ytdlp)("download workers with real yt-dlp", () => {
  let site: MediaSite;
  let t: TestApp;
  let library: string;
  let admin: User;
  let workers: DownloadWorkers | undefined;
  let plex: FakePlexServer;
  const events: { at: number; event: { type: string; progress?: { downloadId: string; percent: number | null } } }[] =
    [];

  beforeAll(async () => {
    PLEX_WAIT.intervalMs = 100;
    PLEX_WAIT.attempts = 100;
    site = await startMediaSite();
    t = await createTestApp({ dialect: "sqlite" });
    library = mkdtempSync(join(tmpdir(), "medianest-library-"));
    await saveLibraries(t.deps, [{ sectionKey: "7", title: "YouTube", type: "movie", folder: library }]);
    await saveDownloadSettings(t.deps, { allowedHosts: ["youtube.com", site.host], minFreeBytes: 0 });
    admin = await givenUser(t.deps, { role: "admin" });
    plex = startFakePlexServer({
      machineIdentifier: "m1",
      ownerToken: "owner-token",
      sections: [plexSection({ key: "7", type: "movie", title: "YouTube" })],
    });
    await savePlexIntegration(t.deps, { url: plex.url, token: "owner-token", machineIdentifier: "m1" });
    await t.deps.coordination.pubsub.subscribe(topics.user(admin.id), (m) =>
      events.push({ at: Date.now(), event: m as (typeof events)[number]["event"] }),
    );
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
    site.setRate(64 * 1024);
  });
  afterAll(async () => {
    await t.close();
    await site.stop();
    await plex.stop();
    rmSync(library, { recursive: true, force: true });
  });

  async function queue(path: string, quality: "best" | "audio" = "best") {
    const checked = await previewDownload(t.deps, admin, `${site.url}${path}`);
    return queueDownload(t.deps, admin, checked, {
      quality,
      library: { sectionKey: "7", title: "YouTube", type: "movie", folder: library },
      status: "queued",
    });
  }

  async function until<T>(what: () => Promise<T | undefined | false>, ms = 45_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await what();
      if (v) return v;
      if (Date.now() > end) throw new Error("timed out waiting");
      await Bun.sleep(50);
    }
  }

  async function finished(id: string) {
    return until(async () => {
      const d = await findDownloadById(t.deps.database, id);
      return d && ["completed", "failed", "cancelled"].includes(d.status) ? d : undefined;
    });
  }

  test("a video lands as <folder>/<Channel>/<Title> [<id>].<ext> with its poster; progress is live and throttled; the owner is told", async () => {
    site.setRate(200 * 1024);
    workers = createDownloadWorkers(t.deps, { concurrency: 2, pollMs: 100 });
    await workers.start();
    const started = Date.now();
    const d = await queue("/one.html");
    const done = await finished(d.id);
    expect(done.status).toBe("completed");
    const [item] = await listDownloadItems(t.deps.database, d.id);
    expect(item!.filePath).toBe(join(library, "Unknown channel", "One Clip (1) [one-1].mp4"));
    expect(existsSync(item!.filePath!)).toBe(true);
    expect(existsSync(join(library, "Unknown channel", "One Clip (1) [one-1].jpg"))).toBe(true);
    expect(item!.bytes).toBeGreaterThan(10_000);
    expect(existsSync(workDirFor(library, item!.id))).toBe(false);
    const mine = events.filter((e) => e.event.type === "download-progress" && e.event.progress?.downloadId === d.id);
    expect(mine.length).toBeGreaterThan(0);
    // At most two updates a second for one download.
    const seconds = (Date.now() - started) / 1000;
    expect(mine.length).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 1);
    // Plex rescans just the folder the file went into; once Plex lists the file, the owner is told with a link
    // that opens it in Plex.
    await until(async () => plex.refreshes.some((r) => r.sectionKey === "7"));
    expect(plex.refreshes).toContainEqual({ sectionKey: "7", path: join(library, "Unknown channel") });
    const notices = async () => (await listNotifications(t.deps.database, admin.id, { limit: 10 })).items;
    await Bun.sleep(PLEX_WAIT.intervalMs * 3);
    expect((await notices()).some((n) => n.kind === "download.finished" && n.createdAt >= new Date(started))).toBe(
      false,
    );
    plex.addItem(
      plexMovie({
        ratingKey: "9001",
        title: "One Clip (1)",
        librarySectionID: "7",
        addedAt: Math.floor(Date.now() / 1000),
        Media: [{ id: 1, Part: [{ id: 1, file: item!.filePath! }] }],
      }),
    );
    const told = await until(async () =>
      (await notices()).find((n) => n.kind === "download.finished" && n.createdAt >= new Date(started)),
    );
    expect(told.link).toBe(plexWebUrl("m1", "9001"));
    expect(told.body).toContain("watch it in Plex");
    const page = await (await (await signIn(t, admin)).get("/notifications")).text();
    expect(page).toContain(">Watch in Plex</a>");
  });

  test("the download-queue job starts this replica's workers once downloads wait, not before", async () => {
    expect(await t.deps.jobs.runNow("download-queue")).toBe("ok");
    const idle = await t.deps.database.db.select().from(t.deps.database.tables.jobRuns);
    expect(idle.find((r) => r.jobId === "download-queue")?.lastError).toBeNull();
    const d = await queue("/clip.mp4");
    expect(await t.deps.jobs.runNow("download-queue")).toBe("ok");
    expect((await finished(d.id)).status).toBe("completed");
    await stopDownloadWorkers(t.deps);
  });

  test("a playlist keeps its order: numbered files in the playlist's folder", async () => {
    workers = createDownloadWorkers(t.deps, { concurrency: 2, pollMs: 100 });
    await workers.start();
    const d = await queue("/two.html");
    expect(d.itemCount).toBe(2);
    expect((await finished(d.id)).status).toBe("completed");
    const files = readdirSync(join(library, "Two Clips")).sort();
    expect(files).toEqual(["01 - Two Clips (1) [two-1].mp4", "02 - Two Clips (2) [two-2].mp4"]);
  });

  test("cancel mid-download ends yt-dlp and removes the partial file", async () => {
    site.setRate(8 * 1024);
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100 });
    await workers.start();
    const d = await queue("/slow.html");
    const item = await until(async () => {
      const [i] = await listDownloadItems(t.deps.database, d.id);
      const dir = i && workDirFor(library, i.id);
      return i?.workerPgid && dir && existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".part"))
        ? i
        : undefined;
    });
    await cancelDownload(t.deps, admin, { user: admin }, d.id);
    await until(async () => !groupAlive(item.workerPgid!) && !existsSync(workDirFor(library, item.id)));
    expect((await findDownloadById(t.deps.database, d.id))?.status).toBe("cancelled");
    await until(async () => workers!.active() === 0);
  });

  test("no progress for the configured time fails the download with what yt-dlp said", async () => {
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100, stallMs: 2000 });
    await workers.start();
    const checked = await previewDownload(t.deps, admin, `${site.url}/stuck/long.mp4`);
    const d = await queueDownload(t.deps, admin, checked, {
      quality: "best",
      library: { sectionKey: "7", title: "YouTube", type: "movie", folder: library },
      status: "queued",
    });
    const done = await finished(d.id);
    expect(done.status).toBe("failed");
    expect(done.error).toStartWith("No progress for 2 s");
  });

  test("a site in trouble (503) is retried with backoff; a 404 fails at once with the reason", async () => {
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100, backoffMs: () => 200 });
    await workers.start();
    const checked = await previewDownload(t.deps, admin, `${site.url}/clip.mp4`);
    site.failNext("/clip.mp4", 1, 503);
    const d = await queueDownload(t.deps, admin, checked, {
      quality: "best",
      library: { sectionKey: "7", title: "YouTube", type: "movie", folder: library },
      status: "queued",
    });
    expect((await finished(d.id)).status).toBe("completed");
    const [item] = await listDownloadItems(t.deps.database, d.id);
    expect(item!.attempts).toBe(2);

    const gone = await previewDownload(t.deps, admin, `${site.url}/other.mp4`);
    site.failNext("/other.mp4", 5, 404);
    const d2 = await queueDownload(t.deps, admin, gone, {
      quality: "best",
      library: { sectionKey: "7", title: "YouTube", type: "movie", folder: library },
      status: "queued",
    });
    const failed = await finished(d2.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("404");
    await until(async () =>
      (await listNotifications(t.deps.database, admin.id, { limit: 20 })).items.some(
        (n) => n.kind === "download.failed",
      ),
    );
  });

  test("a worker stopped between moving the file into the library and recording it: the next records that file, downloads nothing again", async () => {
    const d = await queue("/one.html");
    const now = new Date();
    const [claimed] = (
      await claimDownloadItems(t.deps.database, { now, leaseUntil: new Date(now.getTime() + 200), limit: 5 })
    ).filter((c) => c.download.id === d.id);
    expect(claimed).toBeDefined();
    // What placeFile does before it stops: the target noted on the item, then the file moved there.
    const target = join(library, "Placed before the stop", "One Clip [one-1].mp4");
    expect(await updateClaimedItem(t.deps.database, claimed!.item, { filePath: target })).toBe(true);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, "x".repeat(12_345));
    const before = site.requests.length;
    await Bun.sleep(250);
    workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100, leaseMs: 1500 });
    await workers.start();
    const done = await finished(d.id);
    expect(done.status).toBe("completed");
    const [item] = await listDownloadItems(t.deps.database, d.id);
    expect(item!.filePath).toBe(target);
    expect(item!.bytes).toBe(12_345);
    expect(site.requests.slice(before)).toEqual([]);
    expect(readdirSync(dirname(target))).toEqual(["One Clip [one-1].mp4"]);
  });

  test("a worker killed mid-download: the next takes over when the lease runs out and resumes with --continue", async () => {
    site.setRate(16 * 1024);
    const d = await queue("/slow.html");
    const worker = Bun.spawn(
      ["bun", join(import.meta.dir, "helpers/download-worker.ts"), t.deps.database.location, "1500"],
      { stdout: "pipe", stderr: "pipe" },
    );
    let orphan = 0;
    try {
      const item = await until(async () => {
        const [i] = await listDownloadItems(t.deps.database, d.id);
        const dir = i && workDirFor(library, i.id);
        const part = dir && existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith(".part")) : undefined;
        return i?.workerPgid && part && Bun.file(join(dir!, part)).size > 30_000 ? i : undefined;
      });
      orphan = item.workerPgid!;
      worker.kill("SIGKILL");
      await worker.exited;
      // The dead worker's yt-dlp lives on in its own process group, writing the partial file.
      expect(groupAlive(orphan)).toBe(true);
      expect(item.workerHost).toBe(hostname());
      site.setRate(20 * 1024 * 1024);
      const before = site.requests.length;
      workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 100, leaseMs: 1500 });
      await workers.start();
      const done = await finished(d.id);
      expect(done.status).toBe("completed");
      expect(groupAlive(orphan)).toBe(false);
      const [after] = await listDownloadItems(t.deps.database, d.id);
      expect(after!.attempts).toBe(2);
      // The whole video, not a truncated one: its duration as ffprobe reads it (metadata was embedded, so the
      // size differs from the site's file).
      const probe = Bun.spawnSync([
        "ffprobe",
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
        after!.filePath!,
      ]);
      expect(Math.round(Number(probe.stdout.toString().trim()))).toBe(20);
      const resumed = site.requests.slice(before).filter((r) => r.path === "/slow/long.mp4");
      expect(resumed.length).toBe(1);
      expect(resumed[0]!.range).toMatch(/^bytes=[1-9]\d*-/);
      expect(readdirSync(join(library, "Unknown channel")).filter((f) => f.includes("[slow-1]"))).toHaveLength(1);
    } finally {
      worker.kill("SIGKILL");
      if (orphan) killGroup(orphan, "SIGKILL");
    }
  });
});
