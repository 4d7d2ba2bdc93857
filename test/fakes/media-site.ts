/**
 * A video site on port 0 for yt-dlp's generic extractor: media made with ffmpeg, a page with one <video>, a page
 * with two (a playlist), a throttled file for cancel, resume and timeout tests, a file that stops sending, a 404.
 * Byte ranges are honoured, so yt-dlp's --continue can resume.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One request the site received. */
export interface MediaRequest {
  path: string;
  range: string | null;
}

export interface MediaSite {
  url: string;
  /** host:port, for the allow-list. */
  host: string;
  requests: MediaRequest[];
  /** Bytes of the clip (and of the long clip), for assertions. */
  clipBytes: number;
  longBytes: number;
  /** Bytes per second the /slow/ paths send. */
  setRate(bytesPerSecond: number): void;
  /** The videos /channel.html lists (a channel whose new uploads are added at the end). */
  setChannel(videos: string[]): void;
  /** Answer the next n requests for a path with this status (503: a site in trouble). */
  failNext(path: string, n: number, status?: number): void;
  stop(): Promise<void>;
}

let made: Promise<{ dir: string; clip: Uint8Array; long: Uint8Array; thumb: Uint8Array }> | undefined;

async function ffmpeg(args: string[]): Promise<void> {
  const p = Bun.spawn(["ffmpeg", "-loglevel", "error", "-y", ...args], { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`ffmpeg failed: ${err}`);
}

/** Make the media once per test process (ffmpeg's test source, a sine tone, a poster image). */
export function makeMedia() {
  made ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "medianest-media-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    const clip = join(dir, "clip.mp4");
    const long = join(dir, "long.mp4");
    const thumb = join(dir, "thumb.jpg");
    const src = (seconds: number, size: string) => [
      "-f",
      "lavfi",
      "-i",
      `testsrc=duration=${seconds}:size=${size}:rate=10`,
      "-f",
      "lavfi",
      "-i",
      `sine=duration=${seconds}`,
      "-shortest",
    ];
    await Promise.all([
      ffmpeg([...src(3, "320x240"), clip]),
      ffmpeg([...src(20, "640x480"), "-b:v", "400k", long]),
      ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x180", "-frames:v", "1", thumb]),
    ]);
    return {
      dir,
      clip: new Uint8Array(await Bun.file(clip).arrayBuffer()),
      long: new Uint8Array(await Bun.file(long).arrayBuffer()),
      thumb: new Uint8Array(await Bun.file(thumb).arrayBuffer()),
    };
  })();
  return made;
}

function page(title: string, videos: string[], poster?: string): Response {
  const body = videos.map((v) => `<video src="${v}"${poster ? ` poster="${poster}"` : ""}></video>`).join("\n");
  return new Response(`<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** Start the site. */
export async function startMediaSite(): Promise<MediaSite> {
  const media = await makeMedia();
  const requests: MediaRequest[] = [];
  let rate = 64 * 1024;
  let channel = ["/clip.mp4", "/other.mp4"];
  const controllers = new Set<AbortController>();
  const failures = new Map<string, { n: number; status: number }>();

  const serveBytes = (req: Request, bytes: Uint8Array, opts: { throttle?: boolean; stopAfter?: number }) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get("range") ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    if (start >= bytes.length)
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${bytes.length}` } });
    const part = bytes.subarray(start, end + 1);
    const headers: Record<string, string> = {
      "content-type": "video/mp4",
      "accept-ranges": "bytes",
      "content-length": String(part.length),
    };
    if (range) headers["content-range"] = `bytes ${start}-${end}/${bytes.length}`;
    const status = range ? 206 : 200;
    if (!opts.throttle && opts.stopAfter === undefined)
      return new Response(part as Uint8Array<ArrayBuffer>, { status, headers });
    const abort = new AbortController();
    controllers.add(abort);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (abort.signal.aborted) return ctrl.close();
        if (opts.stopAfter !== undefined && offset >= opts.stopAfter) {
          // Hold the connection open and send nothing more.
          await new Promise((resolve) => abort.signal.addEventListener("abort", resolve, { once: true }));
          return ctrl.close();
        }
        if (offset >= part.length) return ctrl.close();
        const tick = 50;
        const n = Math.max(1, Math.floor((rate * tick) / 1000));
        await Bun.sleep(tick);
        ctrl.enqueue(part.subarray(offset, offset + n));
        offset += n;
      },
      cancel() {
        controllers.delete(abort);
      },
    });
    return new Response(body, { status, headers });
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      requests.push({ path: url.pathname, range: req.headers.get("range") });
      const failure = failures.get(url.pathname);
      if (failure && failure.n > 0) {
        failure.n--;
        return new Response("try later", { status: failure.status });
      }
      switch (url.pathname) {
        case "/clip.mp4":
        case "/other.mp4":
          return serveBytes(req, media.clip, {});
        case "/slow/long.mp4":
          return serveBytes(req, media.long, { throttle: true });
        case "/stuck/long.mp4":
          return serveBytes(req, media.long, { stopAfter: 16 * 1024 });
        case "/thumb.jpg":
          return new Response(media.thumb as Uint8Array<ArrayBuffer>, { headers: { "content-type": "image/jpeg" } });
        case "/one.html":
          return page("One Clip", ["/clip.mp4"], "/thumb.jpg");
        case "/two.html":
          return page("Two Clips", ["/clip.mp4", "/other.mp4"]);
        case "/channel.html":
          return page("A Channel", channel);
        case "/slow.html":
          return page("Slow Clip", ["/slow/long.mp4"]);
        case "/nothing.html":
          return new Response("<!DOCTYPE html><html><head><title>Nothing</title></head><body>text</body></html>", {
            headers: { "content-type": "text/html" },
          });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    host: `127.0.0.1`,
    requests,
    clipBytes: media.clip.length,
    longBytes: media.long.length,
    setRate(n) {
      rate = n;
    },
    setChannel(videos) {
      channel = [...videos];
    },
    failNext(path, n, status = 503) {
      failures.set(path, { n, status });
    },
    async stop() {
      for (const c of controllers) c.abort();
      await server.stop(true);
    },
  };
}
