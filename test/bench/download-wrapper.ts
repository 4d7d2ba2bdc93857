// Benchmark (not a test): bun test/bench/download-wrapper.ts [--rounds=8] [--quick]
// What MediaNest adds to a download: the same video from the local media site (test/fakes/media-site.ts), fetched
// end to end through MediaNest's worker (queued, claimed, yt-dlp run, file placed in the library, the row completed)
// against the very command line the worker runs (downloadArgs), started directly and read to its end. The two take
// turns, who goes first alternating, for N rounds; the figure is the median of the rounds' ratios (target: at most
// 1.05, MediaNest at most 5 % slower than yt-dlp alone). MediaNest runs from source in this process (SQLite,
// in-memory coordination); everything is on loopback.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { childEnv, downloadArgs } from "../../src/integrations/ytdlp/client";
import { saveDownloadSettings } from "../../src/services/download-settings";
import { createDownloadWorkers } from "../../src/services/download-worker";
import { previewDownload, queueDownload } from "../../src/services/downloads";
import { topics } from "../../src/services/events";
import { saveLibraries } from "../../src/services/integrations";
import { findDownloadById, listDownloadItems } from "../../src/store/downloads";
import { startMediaSite } from "../fakes/media-site";
import { createTestApp, givenUser } from "../helpers/test-app";
import { arg, type Figure, median, printFigures } from "./figures";

const TARGET = 1.05;

/** Run the rounds; returns one figure (seconds per download, MediaNest against yt-dlp alone). */
export async function run(opts: { quick?: boolean; rounds?: number; path?: string } = {}): Promise<Figure[]> {
  const rounds = opts.rounds ?? (opts.quick ? 3 : 8);
  const site = await startMediaSite();
  const t = await createTestApp();
  const library = mkdtempSync(join(tmpdir(), "medianest-bench-library-"));
  const scratch = mkdtempSync(join(tmpdir(), "medianest-bench-direct-"));
  const ytdlp = Bun.which("yt-dlp");
  if (!ytdlp) throw new Error("bench: yt-dlp is not on the PATH");
  const ffmpeg = Bun.which("ffmpeg") !== null;
  const lib = { sectionKey: "1", title: "YouTube", type: "movie", folder: library };
  await saveLibraries(t.deps, [lib]);
  await saveDownloadSettings(t.deps, { allowedHosts: [site.host], minFreeBytes: 0 });
  const admin = await givenUser(t.deps, { role: "admin" });
  const checked = await previewDownload(t.deps, admin, `${site.url}${opts.path ?? "/one.html"}`);
  const workers = createDownloadWorkers(t.deps, { concurrency: 1 });
  await workers.start();

  // A download is done when its row says so; the worker publishes each change on the owner's topic.
  const waiting = new Map<string, () => void>();
  const unsubscribe = await t.deps.coordination.pubsub.subscribe(topics.user(admin.id), (m) => {
    const e = m as { type?: string; downloadId?: string };
    if (e.type !== "download-changed" || !e.downloadId) return;
    const done = waiting.get(e.downloadId);
    if (!done) return;
    void findDownloadById(t.deps.database, e.downloadId).then((d) => {
      if (d && ["completed", "failed", "cancelled"].includes(d.status)) done();
    });
  });

  async function throughMediaNest(): Promise<number> {
    const t0 = performance.now();
    const queued = await queueDownload(t.deps, admin, checked, { quality: "best", library: lib, status: "queued" });
    const id = queued.id;
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      // In case it finished before the waiter was set.
      void findDownloadById(t.deps.database, id).then((d) => {
        if (d && ["completed", "failed", "cancelled"].includes(d.status)) resolve();
      });
    });
    const seconds = (performance.now() - t0) / 1000;
    waiting.delete(id);
    const d = await findDownloadById(t.deps.database, id);
    if (d?.status !== "completed")
      throw new Error(
        `bench: MediaNest's download ended ${d?.status}: ${(await listDownloadItems(t.deps.database, id))[0]?.error}`,
      );
    for (const f of readdirSync(library)) rmSync(join(library, f), { recursive: true, force: true });
    return seconds;
  }

  async function direct(): Promise<number> {
    const workDir = join(scratch, crypto.randomUUID());
    const argv = downloadArgs(
      { bin: ytdlp!, cookiesFile: null },
      { url: checked.url, quality: "best", workDir, ffmpeg, stallMs: 60_000 },
    );
    const t0 = performance.now();
    const proc = Bun.spawn([ytdlp!, ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: childEnv() });
    const [, , code] = await Promise.all([
      new Response(proc.stdout).arrayBuffer(),
      new Response(proc.stderr).arrayBuffer(),
      proc.exited,
    ]);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`bench: yt-dlp exited with ${code}`);
    rmSync(workDir, { recursive: true, force: true });
    return seconds;
  }

  const ours: number[] = [];
  const alone: number[] = [];
  try {
    // One of each first, unmeasured: the first yt-dlp run pays for a cold page cache.
    await throughMediaNest();
    await direct();
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        ours.push(await throughMediaNest());
        alone.push(await direct());
      } else {
        alone.push(await direct());
        ours.push(await throughMediaNest());
      }
      console.log(
        `round ${i + 1}/${rounds}: MediaNest ${ours[i]!.toFixed(3)} s, yt-dlp alone ${alone[i]!.toFixed(3)} s, ratio ${(ours[i]! / alone[i]!).toFixed(3)}`,
      );
    }
  } finally {
    await unsubscribe();
    await workers.stop();
    await t.close();
    await site.stop();
    rmSync(library, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
  const ratio = median(ours.map((o, i) => o / alone[i]!));
  const added = median(ours.map((o, i) => o - alone[i]!)) * 1000;
  console.log(`median of the paired differences: ${added >= 0 ? "+" : ""}${added.toFixed(0)} ms per download`);
  return [
    {
      name: `download through the worker (${rounds} rounds, median of paired ratios)`,
      unit: "s",
      value: median(ours),
      baseline: median(alone),
      ratio,
      target: `ratio ≤ ${TARGET}`,
      met: ratio <= TARGET,
    },
  ];
}

if (import.meta.main) {
  console.log(
    `bench: load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const quick = process.argv.includes("--quick");
  const rounds = Number(arg("rounds", quick ? "3" : "8"));
  const figures = await run({ quick, rounds });
  printFigures("MediaNest's worker against yt-dlp alone (same command line, same file)", figures);
  process.exit(0);
}
