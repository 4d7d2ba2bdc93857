import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MediaSite, startMediaSite } from "../../../test/fakes/media-site";
import {
  classifyFailure,
  downloadArgs,
  failureMessage,
  formatFor,
  groupAlive,
  parseProgressLine,
  previewArgs,
  readPreview,
  startDownload,
  YtdlpError,
} from "./client";
import type { DownloadProgress } from "./types";

const available = Bun.which("yt-dlp") !== null && Bun.which("ffmpeg") !== null;
const runner = { bin: "yt-dlp" };

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "medianest-ytdlp-"));
}

async function probeSeconds(path: string): Promise<number> {
  const p = Bun.spawn(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path], {
    stdout: "pipe",
    stderr: "ignore",
  });
  return Number((await new Response(p.stdout).text()).trim());
}

describe("yt-dlp arguments", () => {
  const req = {
    url: "https://www.youtube.com/watch?v=x",
    quality: "720" as const,
    workDir: "/w",
    ffmpeg: true,
    stallMs: 1,
  };

  test("the link comes last, after --, and the output template is MediaNest's own", () => {
    const args = downloadArgs({ bin: "yt-dlp" }, req);
    expect(args.slice(-2)).toEqual(["--", "https://www.youtube.com/watch?v=x"]);
    expect(args).toContain("--ignore-config");
    expect(args[args.indexOf("-o") + 1]).toBe("media.%(ext)s");
    expect(args[args.indexOf("-P") + 1]).toBe("/w");
    expect(args[args.indexOf("-f") + 1]).toBe("bv*[height<=?720]+ba/b[height<=?720]/b");
    expect(args).toContain("--no-playlist");
    expect(previewArgs({ bin: "yt-dlp" }, "https://youtu.be/x").slice(-2)).toEqual(["--", "https://youtu.be/x"]);
  });

  test("a playlist item reachable only through its page is asked for by position", () => {
    const args = downloadArgs({ bin: "yt-dlp", cookiesFile: "/tmp/c.txt" }, { ...req, playlistIndex: 2 });
    expect(args[args.indexOf("--playlist-items") + 1]).toBe("2");
    expect(args).not.toContain("--no-playlist");
    expect(args[args.indexOf("--cookies") + 1]).toBe("/tmp/c.txt");
  });

  test("qualities map to format selections", () => {
    expect(formatFor("best")).toBe("bv*+ba/b");
    expect(formatFor("audio")).toBe("ba/b");
    expect(formatFor("2160")).toContain("height<=?2160");
  });

  test("progress lines are read, other lines are not", () => {
    const p = parseProgressLine(
      '[mn] {"status":"downloading","downloaded_bytes":500,"total_bytes":1000,"speed":250.5,"eta":2}',
    );
    expect(p).toEqual({
      status: "downloading",
      downloadedBytes: 500,
      totalBytes: 1000,
      speed: 250.5,
      etaSeconds: 2,
      percent: 50,
    });
    expect(
      parseProgressLine(
        '[mn] {"status":"downloading","downloaded_bytes":5,"total_bytes":null,"fragment_index":3,"fragment_count":4}',
      )?.percent,
    ).toBe(75);
    expect(parseProgressLine('[mn] {"status":"finished","downloaded_bytes":9}')?.status).toBe("processing");
    expect(parseProgressLine("[download] 50%")).toBeUndefined();
    expect(parseProgressLine("[mn] {not json")).toBeUndefined();
  });

  test("failures are sorted by what stderr says", () => {
    expect(classifyFailure(["ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found"])).toBe(
      "unavailable",
    );
    expect(classifyFailure(["ERROR: Unable to download: HTTP Error 503: Service Unavailable"])).toBe("transient");
    expect(classifyFailure(["ERROR: unable to write data: [Errno 28] No space left on device"])).toBe("disk_full");
    expect(classifyFailure(["ERROR: Unsupported URL: https://x"])).toBe("unsupported");
    expect(
      failureMessage([
        "WARNING: x",
        "ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: 'Not Found'>); please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template.",
      ]),
    ).toBe("[generic] None: Unable to download webpage: HTTP Error 404: Not Found");
  });

  test("a link that is not plain http(s) never reaches the command line", async () => {
    for (const url of ["-o/etc/passwd", "file:///etc/passwd", "https://x y"]) {
      const err = await readPreview(runner, url).catch((e) => e);
      expect(err).toBeInstanceOf(YtdlpError);
      expect((err as YtdlpError).kind).toBe("unsupported");
    }
  });

  test("a missing binary says so", async () => {
    const err = (await readPreview({ bin: "/nonexistent/yt-dlp" }, "https://youtu.be/x").catch((e) => e)) as YtdlpError;
    expect(err.kind).toBe("not_found");
    expect(err.message).toContain("/nonexistent/yt-dlp");
  });
});

describe("cancel ends the whole process group", () => {
  test("a yt-dlp stand-in and the ffmpeg it started are both gone after cancel, and the work folder too", async () => {
    if (!Bun.which("ffmpeg")) return;
    const dir = scratch();
    const work = join(dir, "work");
    const fake = join(dir, "fake-yt-dlp");
    // Prints progress forever while an ffmpeg child encodes in the background, as yt-dlp does when it merges.
    writeFileSync(
      fake,
      `#!/bin/sh
mkdir -p "${work}"
echo partial > "${work}/media.mp4.part"
ffmpeg -loglevel quiet -re -f lavfi -i testsrc -f null - &
i=0
while true; do i=$((i+1)); echo "[mn] {\\"status\\":\\"downloading\\",\\"downloaded_bytes\\":$i}"; sleep 0.05; done
`,
    );
    chmodSync(fake, 0o755);
    const seen: DownloadProgress[] = [];
    const run = await startDownload(
      { bin: fake },
      {
        url: "http://127.0.0.1:9/x",
        quality: "best",
        workDir: work,
        ffmpeg: false,
        stallMs: 10_000,
        onProgress: (p) => seen.push(p),
      },
    );
    while (seen.length < 3) await Bun.sleep(20);
    const ps = Bun.spawnSync(["ps", "-o", "comm=", "-g", String(run.pgid)]).stdout.toString();
    expect(ps).toContain("ffmpeg");
    await run.cancel();
    expect(groupAlive(run.pgid)).toBe(false);
    expect(existsSync(work)).toBe(false);
    expect((await run.done).ok).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(!available)("yt-dlp against a local site", () => {
  let site: MediaSite;
  beforeAll(async () => {
    site = await startMediaSite();
  });
  afterAll(async () => {
    await site.stop();
  });

  test("preview of a direct mp4", async () => {
    const p = await readPreview(runner, `${site.url}/clip.mp4`);
    expect(p).toMatchObject({ kind: "video", id: "clip", title: "clip" });
    expect(p.entries).toHaveLength(1);
    expect(p.webpageUrl).toBe(`${site.url}/clip.mp4`);
  });

  test("preview of a page with one <video>: its title and poster", async () => {
    const p = await readPreview(runner, `${site.url}/one.html`);
    expect(p.kind).toBe("video");
    expect(p.title).toContain("One Clip");
    expect(p.thumbnailUrl).toBe(`${site.url}/thumb.jpg`);
  });

  test("preview of a page with two <video>s is a playlist whose entries keep their order", async () => {
    const p = await readPreview(runner, `${site.url}/two.html`);
    expect(p.kind).toBe("playlist");
    expect(p.title).toBe("Two Clips");
    expect(p.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(p.entries.map((e) => e.title)).toEqual(["Two Clips (1)", "Two Clips (2)"]);
    // The generic extractor's entries have no page of their own: they are fetched as items of the playlist.
    expect(p.entries.every((e) => e.url === null)).toBe(true);
  });

  test("a 404 and a page without media are told apart", async () => {
    const missing = (await readPreview(runner, `${site.url}/gone.html`).catch((e) => e)) as YtdlpError;
    expect(missing.kind).toBe("unavailable");
    expect(missing.message).toContain("404");
    const nothing = (await readPreview(runner, `${site.url}/nothing.html`).catch((e) => e)) as YtdlpError;
    expect(nothing.kind).toBe("unsupported");
  });

  test("download: progress up to 100 %, the file and its poster in the work folder, metadata embedded", async () => {
    const dir = scratch();
    const seen: DownloadProgress[] = [];
    const run = await startDownload(runner, {
      url: `${site.url}/one.html`,
      quality: "best",
      workDir: dir,
      ffmpeg: true,
      stallMs: 30_000,
      onProgress: (p) => seen.push(p),
    });
    const out = await run.done;
    if (!out.ok) throw out.error;
    expect(out.file.path.startsWith(dir)).toBe(true);
    expect(out.file.title).toContain("One Clip");
    expect(out.thumbnail).toBe(join(dir, "media.jpg"));
    expect(out.bytes).toBeGreaterThan(10_000);
    expect(seen.some((p) => p.status === "downloading" && (p.percent ?? 0) < 100)).toBe(true);
    expect(seen.at(-1)?.status).toBe("processing");
    expect(Math.round(await probeSeconds(out.file.path))).toBe(3);
    const tags = Bun.spawnSync([
      "ffprobe",
      "-v",
      "error",
      "-show_entries",
      "format_tags=title",
      "-of",
      "csv=p=0",
      out.file.path,
    ]);
    expect(tags.stdout.toString()).toContain("One Clip");
    rmSync(dir, { recursive: true, force: true });
  });

  test("a playlist item is fetched by its position, not the whole playlist", async () => {
    const dir = scratch();
    const before = site.requests.length;
    const run = await startDownload(runner, {
      url: `${site.url}/two.html`,
      quality: "best",
      workDir: dir,
      ffmpeg: false,
      stallMs: 30_000,
      playlistIndex: 2,
    });
    const out = await run.done;
    if (!out.ok) throw out.error;
    const paths = site.requests.slice(before).map((r) => r.path);
    expect(paths).toContain("/other.mp4");
    expect(paths).not.toContain("/clip.mp4");
    expect(out.file.id).toBe("two-2");
    rmSync(dir, { recursive: true, force: true });
  });

  test("cancel mid-download kills yt-dlp and removes the partial file", async () => {
    site.setRate(8 * 1024);
    const dir = join(scratch(), "work");
    const seen: DownloadProgress[] = [];
    const run = await startDownload(runner, {
      url: `${site.url}/slow.html`,
      quality: "best",
      workDir: dir,
      ffmpeg: false,
      stallMs: 30_000,
      onProgress: (p) => seen.push(p),
    });
    while (!seen.some((p) => (p.downloadedBytes ?? 0) > 0)) await Bun.sleep(20);
    expect(readdirSync(dir).some((f) => f.endsWith(".part"))).toBe(true);
    await run.cancel();
    const out = await run.done;
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.kind).toBe("cancelled");
    expect(groupAlive(run.pgid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  test("an interrupted download resumes with --continue from where it stopped", async () => {
    site.setRate(16 * 1024);
    const dir = scratch();
    const seen: DownloadProgress[] = [];
    const first = await startDownload(runner, {
      url: `${site.url}/slow.html`,
      quality: "best",
      workDir: dir,
      ffmpeg: false,
      stallMs: 30_000,
      onProgress: (p) => seen.push(p),
    });
    while (!seen.some((p) => (p.downloadedBytes ?? 0) > 20_000)) await Bun.sleep(20);
    await first.interrupt();
    expect(readdirSync(dir).some((f) => f.endsWith(".part"))).toBe(true);
    site.setRate(10 * 1024 * 1024);
    const before = site.requests.length;
    const second = await startDownload(runner, {
      url: `${site.url}/slow.html`,
      quality: "best",
      workDir: dir,
      ffmpeg: false,
      stallMs: 30_000,
    });
    const out = await second.done;
    if (!out.ok) throw out.error;
    const resumed = site.requests.slice(before).find((r) => r.path === "/slow/long.mp4");
    expect(resumed?.range).toMatch(/^bytes=[1-9]\d*-/);
    expect(out.bytes).toBe(site.longBytes);
    rmSync(dir, { recursive: true, force: true });
  });

  test("no progress for the configured time fails with what yt-dlp said", async () => {
    const dir = scratch();
    const run = await startDownload(runner, {
      url: `${site.url}/stuck/long.mp4`,
      quality: "best",
      workDir: dir,
      ffmpeg: false,
      stallMs: 1500,
    });
    const out = await run.done;
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.kind).toBe("stalled");
      expect(out.error.message).toStartWith("No progress for 2 s");
    }
    expect(groupAlive(run.pgid)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
