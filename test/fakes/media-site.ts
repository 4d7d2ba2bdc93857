/**
 * A video site on port 0 for yt-dlp's generic extractor: media made with ffmpeg, a page with one <video>, a page
 * with two (a playlist), a throttled file for cancel, resume and timeout tests, a file that stops sending, a 404.
 * Byte ranges are honoured, so yt-dlp's --continue can resume.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo } from "node:net";
import { createServer } from "node:http";
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

function page(title: string, videos: string[], poster?: string): Reply {
  const body = videos.map((v) => `<video src="${v}"${poster ? ` poster="${poster}"` : ""}></video>`).join("\n");
  return html(`<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`);
}

/** What the site answers: a whole body, or bytes sent slowly (throttled, or stopping after some). */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array | string;
  slow?: { bytes: Uint8Array; stopAfter?: number };
}

const html = (text: string): Reply => ({
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: text,
});

/** Start the site. */
export async function startMediaSite(): Promise<MediaSite> {
  const media = await makeMedia();
  const requests: MediaRequest[] = [];
  let rate = 64 * 1024;
  let channel = ["/clip.mp4", "/other.mp4"];
  const failures = new Map<string, { n: number; status: number }>();

  const serveBytes = (rangeHeader: string | undefined, bytes: Uint8Array, slow: boolean, stopAfter?: number): Reply => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    if (start >= bytes.length) return { status: 416, headers: { "content-range": `bytes */${bytes.length}` } };
    const part = bytes.subarray(start, end + 1);
    const headers: Record<string, string> = {
      "content-type": "video/mp4",
      "accept-ranges": "bytes",
      "content-length": String(part.length),
    };
    if (range) headers["content-range"] = `bytes ${start}-${end}/${bytes.length}`;
    const status = range ? 206 : 200;
    return slow || stopAfter !== undefined
      ? { status, headers, slow: { bytes: part, stopAfter } }
      : { status, headers, body: part };
  };

  const answer = (path: string, rangeHeader: string | undefined): Reply => {
    const failure = failures.get(path);
    if (failure && failure.n > 0) {
      failure.n--;
      return { status: failure.status, headers: { "content-type": "text/plain" }, body: "try later" };
    }
    switch (path) {
      case "/clip.mp4":
      case "/other.mp4":
        return serveBytes(rangeHeader, media.clip, false);
      case "/slow/long.mp4":
        return serveBytes(rangeHeader, media.long, true);
      case "/stuck/long.mp4":
        return serveBytes(rangeHeader, media.long, false, 16 * 1024);
      case "/thumb.jpg":
        return { status: 200, headers: { "content-type": "image/jpeg" }, body: media.thumb };
      case "/one.html":
        return page("One Clip", ["/clip.mp4"], "/thumb.jpg");
      case "/two.html":
        return page("Two Clips", ["/clip.mp4", "/other.mp4"]);
      case "/channel.html":
        return page("A Channel", channel);
      case "/slow.html":
        return page("Slow Clip", ["/slow/long.mp4"]);
      case "/nothing.html":
        return html("<!DOCTYPE html><html><head><title>Nothing</title></head><body>text</body></html>");
      default:
        return { status: 404, headers: { "content-type": "text/plain" }, body: "not found" };
    }
  };

  // node:http rather than Bun.serve: a streamed body keeps its Content-Length there (Bun.serve sends a stream
  // chunked), and yt-dlp needs the length to report a percentage, as it gets from real video sites.
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://site").pathname;
    const range = req.headers.range;
    requests.push({ path, range: range ?? null });
    const reply = answer(path, range);
    res.writeHead(reply.status, reply.headers);
    if (!reply.slow) return res.end(reply.body);
    const { bytes, stopAfter } = reply.slow;
    let offset = 0;
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    const tick = 50;
    const timer = setInterval(() => {
      if (closed) return clearInterval(timer);
      // Past stopAfter the connection stays open and sends nothing more.
      if (stopAfter !== undefined && offset >= stopAfter) return;
      if (offset >= bytes.length) {
        clearInterval(timer);
        return res.end();
      }
      const n = Math.max(1, Math.floor((rate * tick) / 1000));
      const end = stopAfter === undefined ? offset + n : Math.min(offset + n, stopAfter);
      res.write(bytes.subarray(offset, end));
      offset = end;
    }, tick);
    res.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
