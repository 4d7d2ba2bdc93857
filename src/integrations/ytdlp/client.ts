/**
 * yt-dlp as a child process: previews (`-J`) and downloads with machine-readable progress. Always an argument
 * array (never a shell), `--ignore-config` (a config file could change the output template), the link after `--`,
 * and a minimal environment. A download runs in a process group of its own, so cancelling it ends ffmpeg too.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type DownloadedFile,
  type DownloadProgress,
  type Preview,
  type PreviewEntry,
  type RemoteEntry,
  type RemoteInfo,
  remoteEntrySchema,
  remoteFinishedSchema,
  remoteInfoSchema,
  remoteProgressSchema,
} from "./types";

/** The qualities a user picks from. */
export const QUALITIES = ["best", "2160", "1080", "720", "480", "audio"] as const;
export type Quality = (typeof QUALITIES)[number];

/** Why yt-dlp could not do what was asked, in words for the page. */
export type YtdlpFailureKind =
  | "not_found" // the binary is missing or cannot start
  | "unsupported" // yt-dlp does not know what to do with the link
  | "unavailable" // the site said no (404, private, removed, sign-in needed)
  | "transient" // the network or the site failed for now; worth retrying
  | "disk_full"
  | "stalled" // no progress for too long
  | "timeout"
  | "cancelled"
  | "bad_output" // yt-dlp printed something this code cannot read
  | "failed"; // any other non-zero exit

/** A failed yt-dlp run: what kind, a readable message and the last lines yt-dlp wrote to stderr. */
export class YtdlpError extends Error {
  override readonly name = "YtdlpError";
  constructor(
    readonly kind: YtdlpFailureKind,
    message: string,
    readonly stderrTail: string[] = [],
  ) {
    super(message);
  }
}

/** Where yt-dlp is and how to run it. */
export interface YtdlpRunner {
  /** The configured path or command name ("yt-dlp"). */
  bin: string;
  /** A cookies file (Netscape format) for sites that ask for a sign-in; written by the caller, 0600. */
  cookiesFile?: string | null;
}

const PROGRESS_PREFIX = "[mn] ";
const FINISHED_PREFIX = "[mn-done] ";
const STDERR_TAIL_LINES = 20;

/** Return the binary's absolute path, or throw YtdlpError("not_found") saying what is wrong. */
export async function resolveBinary(bin: string): Promise<string> {
  const resolved = bin.includes("/") ? bin : Bun.which(bin);
  if (!resolved) throw new YtdlpError("not_found", `yt-dlp not found: ${bin} is not on the PATH`);
  try {
    if (!(await stat(resolved)).isFile())
      throw new YtdlpError("not_found", `yt-dlp not found at ${resolved} (it is not a file)`);
  } catch (err) {
    if (err instanceof YtdlpError) throw err;
    throw new YtdlpError("not_found", `yt-dlp not found at ${resolved}`);
  }
  return resolved;
}

// The pages' answer to "is yt-dlp there?", per configured path and replica (this host's disk), kept a few seconds:
// the lookup on the PATH and its stat were a twentieth of the downloads page. A download resolves it afresh.
const recentBinaries = new Map<string, { at: number; error: YtdlpError | null }>();
const BINARY_CHECK_TTL_MS = 5_000;

/** Like resolveBinary, for pages: the outcome for this path is kept for a few seconds. */
export async function checkBinaryKept(bin: string): Promise<void> {
  const now = Date.now();
  let kept = recentBinaries.get(bin);
  if (!kept || now - kept.at > BINARY_CHECK_TTL_MS) {
    let error: YtdlpError | null = null;
    try {
      await resolveBinary(bin);
    } catch (err) {
      if (!(err instanceof YtdlpError)) throw err;
      error = err;
    }
    kept = { at: now, error };
    if (recentBinaries.size > 16) recentBinaries.clear();
    recentBinaries.set(bin, kept);
  }
  if (kept.error) throw kept.error;
}

/** Never hand MediaNest's own environment (secret key, database URL) to a child process. */
export function childEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LANG: "C.UTF-8",
  };
}

/** Refuse what must never reach yt-dlp's command line, whatever the caller checked before. */
function assertPlainLink(url: string): void {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new YtdlpError("unsupported", "yt-dlp: only http(s) links are run");
}

/** The format selection for a quality; heights unknown to yt-dlp (`?`) still match, so plain files work. */
export function formatFor(quality: Quality): string {
  if (quality === "best") return "bv*+ba/b";
  if (quality === "audio") return "ba/b";
  return `bv*[height<=?${quality}]+ba/b[height<=?${quality}]/b`;
}

/** Sort yt-dlp's stderr into a failure kind (its messages are the only signal; exit codes are 0, 1 or 2). */
export function classifyFailure(lines: string[]): YtdlpFailureKind {
  const text = lines.join("\n");
  if (/No space left on device|Disk quota exceeded|ENOSPC/i.test(text)) return "disk_full";
  if (/Unsupported URL|is not a valid URL|no suitable InfoExtractor/i.test(text)) return "unsupported";
  if (
    /HTTP Error (5\d\d|429|408)|timed out|Connection (reset|refused|aborted)|Temporary failure|Network is unreachable|Remote end closed|IncompleteRead|getaddrinfo/i.test(
      text,
    )
  )
    return "transient";
  if (
    /HTTP Error 4\d\d|Video unavailable|Private video|has been removed|not available|Sign in|members-only|copyright|This video is/i.test(
      text,
    )
  )
    return "unavailable";
  return "failed";
}

/** The last ERROR line (or the last line) of stderr, without yt-dlp's "please report this issue" advice. */
export function failureMessage(lines: string[]): string {
  const error = [...lines].reverse().find((l) => l.startsWith("ERROR:")) ?? lines.at(-1) ?? "";
  return error
    .replace(/^ERROR:\s*/, "")
    .replace(/;\s*please report this issue.*$/i, "")
    .replace(/\s*\(caused by .*\)$/, "")
    .trim()
    .slice(0, 300);
}

class LineTail {
  readonly lines: string[] = [];
  push(line: string): void {
    const clean = line.trim();
    if (!clean) return;
    this.lines.push(clean.slice(0, 500));
    if (this.lines.length > STDERR_TAIL_LINES) this.lines.shift();
  }
}

async function eachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ""));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
      }
      // A line without an end (a stray \r progress bar) must not grow without bound.
      if (rest.length > 1 << 20) rest = rest.slice(-4096);
    }
    rest += decoder.decode();
    if (rest) onLine(rest);
  } catch {
    // the process went away mid-read; what was read is all there is
  } finally {
    reader.releaseLock();
  }
}

function largestThumbnail(info: { thumbnail?: string | null; thumbnails?: RemoteInfo["thumbnails"] }): string | null {
  const list = (info.thumbnails ?? []).filter((t) => /^https?:\/\//i.test(t.url));
  if (list.length) {
    const best = [...list].sort(
      (a, b) =>
        (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0) ||
        (b.preference ?? 0) - (a.preference ?? 0),
    )[0]!;
    return best.url;
  }
  return info.thumbnail && /^https?:\/\//i.test(info.thumbnail) ? info.thumbnail : null;
}

function sizeOf(info: Pick<RemoteInfo, "filesize" | "filesize_approx" | "requested_formats">): number | null {
  const direct = info.filesize ?? info.filesize_approx;
  if (direct) return direct;
  const parts = (info.requested_formats ?? []).map((f) => f.filesize ?? f.filesize_approx ?? null);
  if (parts.length && parts.every((p) => p !== null)) return parts.reduce<number>((a, b) => a + (b ?? 0), 0);
  return null;
}

function toEntry(e: RemoteEntry, position: number, fallbackChannel: string | null): PreviewEntry {
  const own = e.url && /^https?:\/\//i.test(e.url) ? e.url : null;
  // A fully resolved entry's url is its media file and webpage_url the playlist's page: neither names the entry.
  const url = e._type === "url" || e._type === "url_transparent" ? own : null;
  return {
    index: e.playlist_index ?? position,
    id: e.id ?? String(position),
    title: e.title ?? e.id ?? `Item ${position}`,
    channel: e.channel ?? e.uploader ?? fallbackChannel,
    durationSeconds: e.duration ?? null,
    thumbnailUrl: largestThumbnail(e),
    url,
    sizeBytes: e.filesize ?? e.filesize_approx ?? null,
  };
}

/** Map `-J` output to a preview: a video, or a playlist whose entries keep their order. */
export function toPreview(info: RemoteInfo, link: string): Preview {
  const channel = info.channel ?? info.uploader ?? info.playlist_uploader ?? null;
  const webpageUrl = info.webpage_url ?? info.original_url ?? link;
  if (info._type === "playlist" || Array.isArray(info.entries)) {
    const entries = (info.entries ?? [])
      .map((raw) => remoteEntrySchema.safeParse(raw))
      .flatMap((r, i) => (r.success ? [toEntry(r.data, i + 1, channel)] : []));
    const sizes = entries.map((e) => e.sizeBytes);
    return {
      kind: "playlist",
      id: info.id,
      title: info.title ?? info.id,
      channel,
      durationSeconds: entries.every((e) => e.durationSeconds !== null)
        ? entries.reduce((a, e) => a + (e.durationSeconds ?? 0), 0)
        : null,
      thumbnailUrl: largestThumbnail(info) ?? entries.find((e) => e.thumbnailUrl)?.thumbnailUrl ?? null,
      webpageUrl,
      sizeBytes:
        sizes.length && sizes.every((s) => s !== null) ? sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : null,
      entries,
    };
  }
  const entry: PreviewEntry = {
    index: 1,
    id: info.id,
    title: info.title ?? info.id,
    channel,
    durationSeconds: info.duration ?? null,
    thumbnailUrl: largestThumbnail(info),
    url: webpageUrl,
    sizeBytes: sizeOf(info),
  };
  return {
    kind: "video",
    id: info.id,
    title: entry.title,
    channel,
    durationSeconds: entry.durationSeconds,
    thumbnailUrl: entry.thumbnailUrl,
    webpageUrl,
    sizeBytes: entry.sizeBytes,
    entries: [entry],
  };
}

/** The arguments of a preview run (exported for tests and the bench). */
export function previewArgs(runner: YtdlpRunner, url: string): string[] {
  return [
    "--ignore-config",
    "--no-colors",
    "-J",
    "--flat-playlist",
    "--no-warnings",
    ...(runner.cookiesFile ? ["--cookies", runner.cookiesFile] : []),
    "--",
    url,
  ];
}

/** Ask yt-dlp what a link is (`-J --flat-playlist`); throws YtdlpError with a readable message. */
export async function readPreview(
  runner: YtdlpRunner,
  url: string,
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<Preview> {
  assertPlainLink(url);
  const bin = await resolveBinary(runner.bin);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn([bin, ...previewArgs(runner, url)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv(),
      detached: true,
    });
  } catch (err) {
    throw new YtdlpError("not_found", `yt-dlp at ${bin} could not be started (${(err as Error).message})`);
  }
  const tail = new LineTail();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooBig = false;
  const timer = setTimeout(() => killGroup(proc.pid, "SIGKILL"), timeoutMs);
  const reading = (async () => {
    const reader = proc.stdout.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          tooBig = true;
          killGroup(proc.pid, "SIGKILL");
          break;
        }
        chunks.push(value);
      }
    } catch {
      // killed
    }
  })();
  const [code] = await Promise.all([proc.exited, reading, eachLine(proc.stderr, (l) => tail.push(l))]);
  clearTimeout(timer);
  if (tooBig)
    throw new YtdlpError("bad_output", `yt-dlp: the description of this link is larger than ${maxBytes >> 20} MiB`);
  if (proc.signalCode)
    throw new YtdlpError(
      "timeout",
      `yt-dlp did not finish looking at the link (timeout after ${Math.round(timeoutMs / 1000)} s)`,
      tail.lines,
    );
  const out = Buffer.concat(chunks).toString("utf8").trim();
  if (code !== 0 || out === "" || out === "null") {
    const kind = classifyFailure(tail.lines);
    const why = failureMessage(tail.lines);
    throw new YtdlpError(
      kind === "failed" && code === 2 ? "failed" : kind,
      why ? `yt-dlp: ${why}` : `yt-dlp failed (exit ${code})`,
      tail.lines,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    throw new YtdlpError("bad_output", "yt-dlp: the preview is not JSON", tail.lines);
  }
  const parsed = remoteInfoSchema.safeParse(json);
  if (!parsed.success) throw new YtdlpError("bad_output", "yt-dlp: the preview lacks an id", tail.lines);
  return toPreview(parsed.data, url);
}

/** Signal a whole process group (yt-dlp and its ffmpeg children); a group already gone is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any process of the group is alive (zombies waiting to be reaped do not count). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync("/proc/self/stat")) return true;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so read after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/** What to download and where. */
export interface DownloadRequest {
  url: string;
  quality: Quality;
  /** A folder of this download's own: yt-dlp writes only here (the partial file, the thumbnail, the result). */
  workDir: string;
  /** For an item reachable only through its playlist's page: its position there. */
  playlistIndex?: number | null;
  /** Convert the thumbnail, embed metadata and extract audio (needs ffmpeg on the PATH). */
  ffmpeg: boolean;
  /** Fail with "stalled" when yt-dlp reports no progress for this long (ms). */
  stallMs: number;
  onProgress?: (p: DownloadProgress) => void;
}

/** How a download ended. */
export type DownloadOutcome =
  | { ok: true; file: DownloadedFile; thumbnail: string | null; bytes: number }
  | { ok: false; error: YtdlpError };

/** A download in progress. */
export interface RunningDownload {
  /** The process group id (yt-dlp's pid): kill(-pgid) reaches ffmpeg too. */
  pgid: number;
  /** Settles when yt-dlp has exited; never rejects. */
  done: Promise<DownloadOutcome>;
  /** Stop for good: kill the group, wait for it, remove the work folder. */
  cancel(): Promise<void>;
  /** Stop but keep the partial file, so a later run resumes it with --continue (shutdown, a lost lease). */
  interrupt(): Promise<void>;
}

/** The arguments of a download run (exported for tests and the bench). */
export function downloadArgs(runner: YtdlpRunner, req: DownloadRequest): string[] {
  const args = [
    "--ignore-config",
    "--no-colors",
    "--newline",
    "--progress",
    "--no-simulate",
    "--continue",
    "--no-mtime",
    "-f",
    formatFor(req.quality),
    "-P",
    req.workDir,
    "-o",
    "media.%(ext)s",
    "-o",
    "thumbnail:media.%(ext)s",
    "--write-thumbnail",
    "--progress-template",
    `download:${PROGRESS_PREFIX}%(progress)j`,
    "-O",
    `after_move:${FINISHED_PREFIX}%(.{id,title,channel,uploader,ext,filepath})j`,
  ];
  if (req.ffmpeg) {
    args.push("--convert-thumbnails", "jpg", "--embed-metadata");
    if (req.quality === "audio") args.push("-x");
  }
  if (req.playlistIndex) args.push("--yes-playlist", "--playlist-items", String(req.playlistIndex));
  else args.push("--no-playlist");
  if (runner.cookiesFile) args.push("--cookies", runner.cookiesFile);
  args.push("--", req.url);
  return args;
}

/** Read one progress line; undefined for anything else. */
export function parseProgressLine(line: string): DownloadProgress | undefined {
  if (!line.startsWith(PROGRESS_PREFIX)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line.slice(PROGRESS_PREFIX.length));
  } catch {
    return undefined;
  }
  const p = remoteProgressSchema.safeParse(json);
  if (!p.success) return undefined;
  const d = p.data;
  const total = d.total_bytes ?? d.total_bytes_estimate ?? null;
  const downloaded = d.downloaded_bytes ?? null;
  let percent: number | null = null;
  if (d.status === "finished") percent = 100;
  else if (total && downloaded !== null) percent = Math.min(100, (downloaded / total) * 100);
  else if (d.fragment_index && d.fragment_count) percent = Math.min(100, (d.fragment_index / d.fragment_count) * 100);
  return {
    status: d.status === "finished" ? "processing" : "downloading",
    downloadedBytes: downloaded,
    totalBytes: total,
    speed: d.speed ?? null,
    etaSeconds: d.eta ?? null,
    percent,
  };
}

/** Start a download in its own process group; progress comes through onProgress, the outcome through done. */
export async function startDownload(runner: YtdlpRunner, req: DownloadRequest): Promise<RunningDownload> {
  assertPlainLink(req.url);
  const bin = await resolveBinary(runner.bin);
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn([bin, ...downloadArgs(runner, req)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv(),
      // setsid(): yt-dlp leads a group of its own, so one signal to -pid reaches ffmpeg as well.
      detached: true,
    });
  } catch (err) {
    throw new YtdlpError("not_found", `yt-dlp at ${bin} could not be started (${(err as Error).message})`);
  }
  const pgid = proc.pid;
  const tail = new LineTail();
  let finished: DownloadedFile | undefined;
  let stopping: "cancel" | "interrupt" | "stall" | undefined;
  let lastProgress = Date.now();
  let lastBytes = -1;

  const stall = setInterval(
    () => {
      if (Date.now() - lastProgress < req.stallMs || stopping) return;
      stopping = "stall";
      void terminate();
    },
    Math.min(1000, Math.max(50, req.stallMs / 4)),
  );

  async function terminate(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    killGroup(pgid, signal);
    const gone = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
    // yt-dlp ignores a first SIGTERM while ffmpeg finishes a write; the group must still go.
    if (!gone) killGroup(pgid, "SIGKILL");
    await proc.exited;
    // ffmpeg may outlive its parent for a moment.
    for (let i = 0; i < 20 && groupAlive(pgid); i++) {
      killGroup(pgid, "SIGKILL");
      await Bun.sleep(25);
    }
  }

  const stdout = eachLine(proc.stdout, (line) => {
    const p = parseProgressLine(line);
    if (p) {
      // Repeated reports of the same byte count are not progress (a server that stopped sending).
      if (p.downloadedBytes !== lastBytes || p.status === "processing") {
        lastBytes = p.downloadedBytes ?? lastBytes;
        lastProgress = Date.now();
      }
      req.onProgress?.(p);
      return;
    }
    if (line.startsWith(FINISHED_PREFIX)) {
      try {
        const f = remoteFinishedSchema.parse(JSON.parse(line.slice(FINISHED_PREFIX.length)));
        finished = {
          path: f.filepath,
          id: f.id ?? null,
          title: f.title ?? null,
          channel: f.channel ?? f.uploader ?? null,
          ext: f.ext ?? "",
        };
        lastProgress = Date.now();
      } catch {
        tail.push(`unreadable result line: ${line.slice(0, 200)}`);
      }
    }
  });
  const stderr = eachLine(proc.stderr, (line) => {
    tail.push(line);
    // Post-processing (ffmpeg merging, converting) prints here; it counts as a sign of life.
    if (/^\[(Merger|ExtractAudio|ThumbnailsConvertor|Metadata|FixupM3u8|VideoConvertor|EmbedThumbnail)\]/.test(line))
      lastProgress = Date.now();
  });

  const done = (async (): Promise<DownloadOutcome> => {
    const code = await proc.exited;
    await Promise.all([stdout, stderr]);
    clearInterval(stall);
    if (stopping === "cancel") return { ok: false, error: new YtdlpError("cancelled", "Cancelled.", tail.lines) };
    if (stopping === "interrupt")
      return { ok: false, error: new YtdlpError("cancelled", "Interrupted; it resumes later.", tail.lines) };
    if (stopping === "stall") {
      const last = tail.lines.slice(-3).join(" | ");
      return {
        ok: false,
        error: new YtdlpError(
          "stalled",
          `No progress for ${Math.round(req.stallMs / 1000)} s${last ? `; yt-dlp said: ${last}` : ""}`,
          tail.lines,
        ),
      };
    }
    if (code !== 0 || !finished) {
      const kind = code === 0 ? "bad_output" : classifyFailure(tail.lines);
      const why = failureMessage(tail.lines);
      const message =
        kind === "disk_full"
          ? `The disk is full (${why || "no space left on device"})`
          : why
            ? why
            : code === 0
              ? "yt-dlp finished without naming a file"
              : `yt-dlp failed (exit ${code})`;
      return { ok: false, error: new YtdlpError(kind, message, tail.lines) };
    }
    let bytes = 0;
    try {
      bytes = (await stat(finished.path)).size;
    } catch {
      return {
        ok: false,
        error: new YtdlpError("bad_output", `yt-dlp named ${finished.path}, which is not there`, tail.lines),
      };
    }
    const thumbnail = await findThumbnail(req.workDir);
    return { ok: true, file: finished, thumbnail, bytes };
  })();

  return {
    pgid,
    done,
    async cancel() {
      stopping ??= "cancel";
      await terminate();
      await done;
      await rm(req.workDir, { recursive: true, force: true });
    },
    async interrupt() {
      stopping ??= "interrupt";
      // SIGINT: yt-dlp stops cleanly and leaves its .part file for --continue.
      await terminate("SIGINT");
      await done;
    },
  };
}

async function findThumbnail(dir: string): Promise<string | null> {
  for (const ext of ["jpg", "jpeg", "png", "webp"]) {
    const p = join(dir, `media.${ext}`);
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      // not this one
    }
  }
  return null;
}
