/** A fake TMDB image server (image.tmdb.org): GET /t/p/<size>/<file> answers a small JPEG for known files. */
import { FaultQueue, type RecordedRequest, serveFake, type Fault } from "./http-fake";

/** The first bytes of a JPEG file and a few more: enough for a browser to treat it as one. */
export const FAKE_JPEG = new Uint8Array([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9,
]);

export interface FakeTmdbImages {
  url: string;
  requests: RecordedRequest[];
  failNext(fault: Fault): void;
  stop(): Promise<void>;
}

/** Start the fake; every `/<name>.jpg` exists except names starting with "missing". */
export function startFakeTmdbImages(): FakeTmdbImages {
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue((code) => new Response(`fault ${code}`, { status: code }));
  const server = serveFake(requests, faults, (req) => {
    const m = /^\/t\/p\/(w\d+|original)\/([A-Za-z0-9_-]+\.(jpg|png|webp))$/.exec(req.path);
    if (!m || m[2]!.startsWith("missing")) return new Response("Not Found", { status: 404 });
    return new Response(FAKE_JPEG, { headers: { "content-type": "image/jpeg" } });
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    failNext: (fault) => faults.push(fault),
    async stop() {
      faults.releaseAll();
      await server.stop(true);
    },
  };
}
