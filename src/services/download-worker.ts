/**
 * Download workers: each replica runs a few (the admin's setting, default 2) that claim download items from the
 * database (store/claims.ts: a lease with a heartbeat, fair across users), run yt-dlp, place the file in the
 * library and record the outcome. A worker that dies leaves its lease to run out; the next claimer ends the dead
 * worker's yt-dlp when it runs on the same host and resumes the partial file with --continue.
 */
import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import { mkdir, rename, rm, stat, statfs } from "node:fs/promises";
import { extname, join } from "node:path";
import type { AppDeps } from "../app/deps";
import {
  groupAlive,
  killGroup,
  type Quality,
  QUALITIES,
  type RunningDownload,
  startDownload,
  YtdlpError,
} from "../integrations/ytdlp/client";
import { channelFolder, freeBaseName, isInside, safeExtension } from "../integrations/ytdlp/names";
import type { DownloadProgress } from "../integrations/ytdlp/types";
import {
  type ClaimedItem,
  claimDownloadItems,
  extendItemLease,
  findDownloadItemById,
  finishClaimedItem,
  type ItemOutcome,
  refreshDownloadStatus,
  updateClaimedItem,
} from "../store/downloads";
import { probeFolder } from "./download-folders";
import { createCookiesFile, getDownloadSettings, getYtdlpPath, SETTINGS_TOPIC } from "./download-settings";
import { annotateSpan, traced } from "../telemetry/trace";
import { afterDownloadFinished } from "./download-finish";
import { type LiveDownloadProgress, publishEvent, topics } from "./events";

export type WorkerDeps = Pick<
  AppDeps,
  "database" | "coordination" | "log" | "secretBox" | "config" | "fetch" | "metrics"
> &
  Partial<Pick<AppDeps, "jobs">>;

/** The PubSub topic that wakes idle workers on every replica (a download was queued, approved or retried). */
export const QUEUE_TOPIC = "downloads:queue";
/** The PubSub topic that tells the worker holding an item to stop it now (cancelled or removed). */
export const STOP_TOPIC = "downloads:stop";
/** The cache key of the queue's pause (the disk filled up); workers claim nothing while it is there. */
export const PAUSE_KEY = "downloads:paused";

/** Why the queue is paused, as pages show it. */
export interface QueuePause {
  reason: string;
  folder: string;
  since: number;
}

export interface DownloadWorkerOptions {
  /** Workers on this replica; the admin's setting when unset. */
  concurrency?: number;
  /** How long a claim lasts without a heartbeat (ms); heartbeats come three times per lease. */
  leaseMs?: number;
  /** How often idle workers look for due work without being woken (ms). */
  pollMs?: number;
  /** Claims of one item before a transient failure is final. */
  maxAttempts?: number;
  backoffMs?: (attempt: number) => number;
  /** The no-progress timeout (ms); the admin's setting when unset. */
  stallMs?: number;
  /** The name this worker's host goes by in the rows it claims. */
  host?: string;
  /** Seconds between progress events of one download (at most two a second). */
  progressIntervalMs?: number;
}

/** The workers of one replica. */
export interface DownloadWorkers {
  start(): Promise<void>;
  /** Stop claiming; interrupt running downloads (their partial files stay for --continue) and hand their items back. */
  stop(): Promise<void>;
  /** Look for work now. */
  kick(): void;
  /** Items being worked on here now. */
  active(): number;
  /** Workers that take work here now (the admin's setting, followed as it changes). */
  size(): number;
}

const DEFAULTS = {
  leaseMs: 60_000,
  pollMs: 5_000,
  maxAttempts: 5,
  progressIntervalMs: 500,
};

/** Wait 30 s, 2 min, 8 min, 30 min between transient failures. */
export function downloadBackoff(attempt: number): number {
  return [30_000, 120_000, 480_000, 1_800_000][Math.min(attempt - 1, 3)] ?? 1_800_000;
}

/** The folder yt-dlp writes an item's partial files into: beside the library, so the finished file is one rename. */
export function workDirFor(folder: string, itemId: string): string {
  return join(folder, ".medianest-partial", itemId);
}

/** Tell a user's pages (and admins') that a download changed state. */
export async function publishDownloadChanged(deps: WorkerDeps, userId: string, downloadId: string): Promise<void> {
  const event = { type: "download-changed" as const, downloadId };
  await Promise.all([publishEvent(deps, topics.user(userId), event), publishEvent(deps, topics.admins, event)]);
}

/** Read the queue's pause, if any. */
export async function readQueuePause(deps: Pick<AppDeps, "coordination">): Promise<QueuePause | undefined> {
  return deps.coordination.cache.get<QueuePause>(PAUSE_KEY);
}

/** Free bytes under a folder; undefined when it cannot be read. */
export async function freeBytes(folder: string): Promise<number | undefined> {
  try {
    const s = await statfs(folder);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** Format bytes for messages: 1.5 GiB, 300 MiB. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

/** End a dead worker's yt-dlp on this host before taking its item over (it would write the same partial file). */
function endOrphan(item: ClaimedItem["item"], host: string, workDir: string): boolean {
  if (!item.workerPgid || item.workerHost !== host || !groupAlive(item.workerPgid)) return false;
  // The pid may have been reused: only a process whose command line names this item's folder is ours.
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${item.workerPgid}/cmdline`, "utf8");
  } catch {
    return false;
  }
  if (!cmdline.split("\0").includes(workDir)) return false;
  killGroup(item.workerPgid, "SIGKILL");
  return true;
}

/** Start the workers of this replica. */
export function createDownloadWorkers(deps: WorkerDeps, options: DownloadWorkerOptions = {}): DownloadWorkers {
  const opts = { ...DEFAULTS, ...options };
  const host = options.host ?? hostname();
  const backoff = options.backoffMs ?? downloadBackoff;
  let stopping = false;
  let started = false;
  const waiters = new Set<() => void>();
  let wakeCount = 0;
  const loops: Promise<void>[] = [];
  const running = new Map<string, { run: RunningDownload | undefined; stop: (why: "cancel" | "interrupt") => void }>();
  const lastPublish = new Map<string, number>();
  const unsubscribes: (() => Promise<void>)[] = [];

  const kick = () => {
    wakeCount++;
    for (const w of [...waiters]) w();
    waiters.clear();
  };

  const sleep = (ms: number) => {
    const seen = wakeCount;
    return new Promise<void>((resolve) => {
      if (seen !== wakeCount || stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  };

  async function pausedNow(): Promise<boolean> {
    const pause = await readQueuePause(deps);
    if (!pause) return false;
    const settings = await getDownloadSettings(deps);
    const free = await freeBytes(pause.folder);
    if (free !== undefined && free >= settings.minFreeBytes) {
      await deps.coordination.cache.delete(PAUSE_KEY);
      deps.log.info("downloads: queue resumed, disk space is back", { folder: pause.folder, free });
      return false;
    }
    return true;
  }

  async function pauseQueue(folder: string, reason: string): Promise<void> {
    const pause: QueuePause = { reason, folder, since: Date.now() };
    await deps.coordination.cache.set(PAUSE_KEY, pause, 24 * 3600_000);
    deps.log.warn("downloads: queue paused", { folder, reason });
    await publishEvent(deps, topics.admins, { type: "download-changed", downloadId: "" });
  }

  function publishProgress(claimed: ClaimedItem, p: DownloadProgress, force = false): void {
    const now = Date.now();
    const key = claimed.download.id;
    if (!force && now - (lastPublish.get(key) ?? 0) < opts.progressIntervalMs) return;
    lastPublish.set(key, now);
    const progress: LiveDownloadProgress = {
      downloadId: claimed.download.id,
      itemId: claimed.item.id,
      position: claimed.item.position,
      itemCount: claimed.download.itemCount,
      title: claimed.item.title,
      status: p.status,
      percent: p.percent === null ? null : Math.round(p.percent * 10) / 10,
      speed: p.speed,
      etaSeconds: p.etaSeconds,
      downloadedBytes: p.downloadedBytes,
      totalBytes: p.totalBytes,
    };
    void publishEvent(deps, topics.user(claimed.download.userId), { type: "download-progress", progress });
  }

  async function record(claimed: ClaimedItem, outcome: ItemOutcome): Promise<boolean> {
    annotateSpan({ "medianest.download.outcome": outcome.status });
    const ok = await finishClaimedItem(deps.database, claimed.item, outcome);
    if (!ok) {
      deps.log.warn("downloads: item was taken over before its outcome was recorded", {
        item: claimed.item.id,
        outcome: outcome.status,
      });
      return false;
    }
    const refreshed = await refreshDownloadStatus(deps.database, claimed.download.id, new Date());
    await publishDownloadChanged(deps, claimed.download.userId, claimed.download.id);
    if (refreshed?.becameFinal) await afterDownloadFinished(deps, refreshed.download);
    return true;
  }

  async function placeFile(
    claimed: ClaimedItem,
    workDir: string,
    result: {
      file: { path: string; title: string | null; id: string | null; channel: string | null; ext: string };
      thumbnail: string | null;
    },
  ): Promise<string> {
    const { download, item } = claimed;
    if (!isInside(workDir, result.file.path))
      throw new Error(`downloads: yt-dlp wrote ${result.file.path}, outside ${workDir}`);
    const channel =
      download.kind === "playlist"
        ? (download.channel ?? download.title)
        : (result.file.channel ?? download.channel ?? "Unknown channel");
    const dir = await channelFolder(download.folder, channel);
    const ext = safeExtension(result.file.ext || extname(result.file.path));
    const thumbExt = result.thumbnail ? safeExtension(extname(result.thumbnail)) : null;
    const digits = Math.max(2, String(download.itemCount).length);
    const prefix = download.kind === "playlist" ? `${String(item.position).padStart(digits, "0")} - ` : "";
    const base = await freeBaseName(
      dir,
      result.file.title ?? item.title,
      result.file.id ?? item.remoteId,
      thumbExt ? [ext, thumbExt] : [ext],
      prefix,
    );
    const target = join(dir, `${base}.${ext}`);
    if (!isInside(download.folder, target)) throw new Error(`downloads: ${target} is outside ${download.folder}`);
    // Noted before the move: a worker stopped between the move and recording it leaves the next one a file to find,
    // not a second download beside the first (runItem).
    if (!(await updateClaimedItem(deps.database, item, { filePath: target })))
      throw new Error("the item was taken over before its file was placed");
    await rename(result.file.path, target);
    // Plex takes an image with the video's name beside it as its poster.
    if (result.thumbnail && thumbExt) await rename(result.thumbnail, join(dir, `${base}.${thumbExt}`)).catch(() => {});
    await rm(workDir, { recursive: true, force: true });
    return target;
  }

  async function runItem(claimed: ClaimedItem): Promise<void> {
    const { item, download } = claimed;
    const workDir = workDirFor(download.folder, item.id);
    const settings = await getDownloadSettings(deps);
    const stallMs = options.stallMs ?? settings.stallSeconds * 1000;
    const leaseMs = opts.leaseMs;

    if (item.filePath) {
      // An earlier attempt moved the finished file into the library and stopped before recording it.
      const placed = await stat(item.filePath).catch(() => undefined);
      if (placed?.isFile() && isInside(download.folder, item.filePath)) {
        await rm(workDir, { recursive: true, force: true });
        await record(claimed, { status: "completed", at: new Date(), filePath: item.filePath, bytes: placed.size });
        return;
      }
    }
    const cannotWrite = await probeFolder(download.folder);
    if (cannotWrite) {
      await record(claimed, { status: "failed", at: new Date(), error: `Cannot save the file: ${cannotWrite}.` });
      return;
    }
    const free = await freeBytes(download.folder);
    if (free !== undefined && free < settings.minFreeBytes) {
      await pauseQueue(
        download.folder,
        `Only ${formatBytes(free)} free under ${download.folder}; downloads wait until ${formatBytes(settings.minFreeBytes)} is free.`,
      );
      await finishClaimedItem(deps.database, item, {
        status: "queued",
        nextAttemptAt: new Date(),
        error: "Waiting for disk space.",
      });
      return;
    }

    if (endOrphan(item, host, workDir)) {
      deps.log.warn("downloads: ended the yt-dlp of a worker that died", { item: item.id, pgid: item.workerPgid });
      for (let i = 0; i < 40 && groupAlive(item.workerPgid!); i++) await Bun.sleep(25);
    }
    await mkdir(workDir, { recursive: true });

    const ytdlpPath = await getYtdlpPath(deps);
    const quality: Quality = (QUALITIES as readonly string[]).includes(download.quality)
      ? (download.quality as Quality)
      : "best";
    let stopWhy: "cancel" | "interrupt" | "lost" | undefined;
    let processing = false;
    let cookies: { path: string; remove: () => Promise<void> } | undefined;
    const slot: { run: RunningDownload | undefined; stop: (why: "cancel" | "interrupt") => void } = {
      run: undefined,
      stop: (why) => {
        stopWhy ??= why;
        void (why === "cancel" ? slot.run?.cancel() : slot.run?.interrupt());
      },
    };
    running.set(item.id, slot);
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    try {
      if (settings.cookies) cookies = await createCookiesFile(settings.cookies);
      const run = await startDownload(
        { bin: ytdlpPath, cookiesFile: cookies?.path ?? null },
        {
          url: item.url ?? download.url,
          quality,
          workDir,
          playlistIndex: item.url ? null : item.playlistIndex,
          ffmpeg: Bun.which("ffmpeg") !== null,
          stallMs,
          onProgress: (p) => {
            if (p.status === "processing" && !processing) {
              processing = true;
              void updateClaimedItem(deps.database, item, { status: "processing" }).then(() =>
                publishDownloadChanged(deps, download.userId, download.id),
              );
              publishProgress(claimed, p, true);
              return;
            }
            publishProgress(claimed, p);
          },
        },
      );
      slot.run = run;
      if (stopWhy) slot.stop(stopWhy === "lost" ? "interrupt" : stopWhy);
      await updateClaimedItem(deps.database, item, { workerHost: host, workerPgid: run.pgid });
      await refreshDownloadStatus(deps.database, download.id, new Date());
      await publishDownloadChanged(deps, download.userId, download.id);

      heartbeat = setInterval(
        () => {
          extendItemLease(deps.database, item, new Date(Date.now() + leaseMs)).then(
            async (held) => {
              if (held || stopWhy) return;
              // The claim is gone: cancelled or removed by its owner, or taken over after this worker stalled.
              const now = await findDownloadItemById(deps.database, item.id);
              const cancelled = !now || now.status === "cancelled";
              stopWhy = cancelled ? "cancel" : "lost";
              void (cancelled ? run.cancel() : run.interrupt());
            },
            (err: Error) => deps.log.warn("downloads: heartbeat failed", { item: item.id, error: err.message }),
          );
        },
        Math.max(50, Math.floor(leaseMs / 3)),
      );

      const out = await run.done;
      clearInterval(heartbeat);
      if (stopWhy === "lost") return;
      if (stopWhy === "cancel") {
        await rm(workDir, { recursive: true, force: true });
        // Cancelled by its owner: the row says so already. Cancelled by this replica stopping: not the case here.
        return;
      }
      if (stopWhy === "interrupt") {
        // This replica is stopping: hand the item back at once, its partial file stays for --continue.
        await finishClaimedItem(deps.database, item, { status: "queued", nextAttemptAt: new Date(), error: null });
        return;
      }
      if (out.ok) {
        let path: string;
        try {
          path = await placeFile(claimed, workDir, out);
        } catch (err) {
          await record(claimed, {
            status: "failed",
            at: new Date(),
            error: `Cannot place the file: ${(err as Error).message}`,
          });
          return;
        }
        await record(claimed, { status: "completed", at: new Date(), filePath: path, bytes: out.bytes });
        if (out.bytes) deps.metrics.downloadedBytes.inc(out.bytes);
        return;
      }
      await recordFailure(claimed, out.error, workDir);
    } catch (err) {
      clearInterval(heartbeat);
      const error = err instanceof YtdlpError ? err : new YtdlpError("failed", (err as Error).message);
      await recordFailure(claimed, error, workDir);
    } finally {
      clearInterval(heartbeat);
      running.delete(item.id);
      await cookies?.remove();
      lastPublish.delete(download.id);
    }
  }

  async function recordFailure(claimed: ClaimedItem, error: YtdlpError, workDir: string): Promise<void> {
    const { item, download } = claimed;
    const now = new Date();
    if (error.kind === "disk_full") {
      await pauseQueue(
        download.folder,
        `The disk under ${download.folder} filled up during a download: ${error.message}`,
      );
      await rm(workDir, { recursive: true, force: true });
      await record(claimed, {
        status: "failed",
        at: now,
        error: `${error.message}. The queue is paused until space is free.`,
      });
      return;
    }
    if (error.kind === "not_found") {
      // yt-dlp itself is missing: keep the item for when it is back, and say so.
      await record(claimed, {
        status: "queued",
        nextAttemptAt: new Date(now.getTime() + backoff(1)),
        error: error.message,
      });
      return;
    }
    if (error.kind === "transient" && item.attempts < opts.maxAttempts) {
      const wait = backoff(item.attempts);
      await record(claimed, {
        status: "queued",
        nextAttemptAt: new Date(now.getTime() + wait),
        error: `${error.message} (attempt ${item.attempts} of ${opts.maxAttempts}; trying again in ${Math.round(wait / 1000)} s)`,
      });
      return;
    }
    await rm(workDir, { recursive: true, force: true });
    const gaveUp = error.kind === "transient" ? ` (gave up after ${item.attempts} attempts)` : "";
    await record(claimed, { status: "failed", at: now, error: `${error.message}${gaveUp}` });
  }

  let wanted = 0;
  const resize = (n: number) => {
    wanted = n;
    while (loops.length < wanted) loops.push(loop(loops.length));
    kick();
  };

  async function loop(index: number): Promise<void> {
    while (!stopping) {
      // Fewer workers wanted (the admin lowered the setting): this one stops once it is idle; a raise starts it again.
      if (index >= wanted) {
        await sleep(opts.pollMs);
        continue;
      }
      try {
        if (await pausedNow()) {
          await sleep(opts.pollMs);
          continue;
        }
        const now = new Date();
        const [claimed] = await claimDownloadItems(deps.database, {
          now,
          leaseUntil: new Date(now.getTime() + opts.leaseMs),
          limit: 1,
        });
        if (!claimed) {
          await sleep(opts.pollMs);
          continue;
        }
        await traced(
          "download item",
          {
            "medianest.download.id": claimed.download.id,
            "medianest.download.item_id": claimed.item.id,
            "medianest.download.attempt": claimed.item.attempts,
          },
          () => runItem(claimed),
        );
      } catch (err) {
        deps.log.error("downloads: worker step failed", { error: (err as Error).message });
        await sleep(opts.pollMs);
      }
    }
  }

  return {
    async start() {
      if (started) return;
      started = true;
      unsubscribes.push(await deps.coordination.pubsub.subscribe(QUEUE_TOPIC, () => kick()));
      unsubscribes.push(
        await deps.coordination.pubsub.subscribe(STOP_TOPIC, (m) => {
          const ids = (m as { itemIds?: string[] }).itemIds ?? [];
          for (const id of ids) running.get(id)?.stop("cancel");
        }),
      );
      if (options.concurrency === undefined)
        unsubscribes.push(
          await deps.coordination.pubsub.subscribe(SETTINGS_TOPIC, () => {
            void getDownloadSettings(deps).then(
              (s) => resize(s.workers),
              () => {},
            );
          }),
        );
      resize(options.concurrency ?? (await getDownloadSettings(deps)).workers);
    },
    async stop() {
      stopping = true;
      kick();
      for (const slot of running.values()) slot.stop("interrupt");
      await Promise.all(loops);
      for (const u of unsubscribes) await u().catch(() => {});
    },
    kick,
    active: () => running.size,
    size: () => wanted,
  };
}
