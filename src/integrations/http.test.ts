import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import {
  IntegrationError,
  type IntegrationErrorKind,
  type IntegrationObserver,
  requestEmpty,
  requestJson,
  requestRaw,
} from "./http";

const schema = z.object({ name: z.string(), items: z.array(z.object({ id: z.number() })) });

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

let server: ReturnType<typeof Bun.serve>;
let base: string;
const seen: Seen[] = [];
let releaseHung: () => void = () => {};
const hung = new Promise<void>((resolve) => {
  releaseHung = resolve;
});

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: url.pathname, headers: req.headers, body: await req.text() });
      switch (url.pathname) {
        case "/ok":
          return Response.json({ name: "x", items: [{ id: 1 }], extra: true });
        case "/401":
          return Response.json(
            { errors: [{ code: 1001, message: "User could not be authenticated" }] },
            { status: 401 },
          );
        case "/403":
          return new Response("forbidden", { status: 403 });
        case "/404":
          return Response.json({ errors: [{ code: 1020, message: "Code not found or expired" }] }, { status: 404 });
        case "/500":
          return new Response("<html>oops</html>", { status: 500, headers: { "content-type": "text/html" } });
        case "/html":
          return new Response("<!doctype html><title>Login</title>", { headers: { "content-type": "text/html" } });
        case "/garbage":
          return new Response('{"name": "x", "items": [', { headers: { "content-type": "application/json" } });
        case "/mismatch":
          return Response.json({ name: "x", items: [{ id: "1" }] });
        case "/empty":
          return new Response(null, { status: 200 });
        case "/slow":
          await Promise.race([hung, Bun.sleep(2000)]);
          return Response.json({ name: "late", items: [] });
        case "/stall-body":
          return new Response(
            new ReadableStream({
              async start(controller) {
                controller.enqueue(new TextEncoder().encode('{"name":'));
                await Promise.race([hung, Bun.sleep(2000)]);
                controller.close();
              },
            }),
            { headers: { "content-type": "application/json" } },
          );
        case "/image":
          return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { headers: { "content-type": "image/png" } });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  releaseHung();
  await server.stop(true);
});

/** Run the call and return the IntegrationError it must throw. */
async function failure(call: Promise<unknown>): Promise<IntegrationError> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(IntegrationError);
    return err as IntegrationError;
  }
  throw new Error("http.test: expected the call to fail");
}

const common = { service: "demo", displayName: "Demo" } as const;

describe("requestJson", () => {
  test("parses a valid body, sends method, headers and a JSON body", async () => {
    const out = await requestJson({
      ...common,
      url: `${base}/ok`,
      method: "POST",
      headers: { Accept: "application/json", "X-Token": "t1" },
      body: { hello: "world" },
      schema,
    });
    expect(out).toEqual({ name: "x", items: [{ id: 1 }] });
    const last = seen.at(-1);
    expect(last?.method).toBe("POST");
    expect(last?.headers.get("x-token")).toBe("t1");
    expect(last?.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(last?.body ?? "")).toEqual({ hello: "world" });
  });

  test("401 is unauthorized and keeps the vendor error body", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/401`, schema }));
    expect(err.kind).toBe("unauthorized");
    expect(err.status).toBe(401);
    expect(err.service).toBe("demo");
    expect(err.message).toBe("Demo rejected the credentials (status 401)");
    expect(err.body).toContain("1001");
  });

  test("403 is unauthorized", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/403`, schema }));
    expect(err.kind).toBe("unauthorized");
    expect(err.status).toBe(403);
  });

  test("500 is refused with the status", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/500`, schema }));
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(500);
    expect(err.message).toBe("Demo refused the request (status 500)");
  });

  test("404 is refused with the status", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/404`, schema }));
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(404);
  });

  test("an HTML body is bad_response", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/html`, schema }));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toBe("Demo answered something that is not JSON");
  });

  test("truncated JSON is bad_response", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/garbage`, schema }));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toBe("Demo answered something that is not JSON");
  });

  test("an empty body is bad_response for a JSON call", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/empty`, schema }));
    expect(err.kind).toBe("bad_response");
  });

  test("a schema mismatch is bad_response naming the first issue path", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/mismatch`, schema }));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toStartWith("Demo answered an unexpected shape (at items[0].id:");
  });

  test("a server that does not answer within timeoutMs is a timeout", async () => {
    const started = performance.now();
    const err = await failure(requestJson({ ...common, url: `${base}/slow`, timeoutMs: 100, schema }));
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("Demo did not answer (timeout after 0.1 s)");
    expect(performance.now() - started).toBeLessThan(1500);
  });

  test("a body that stalls after the headers is a timeout too", async () => {
    const err = await failure(requestJson({ ...common, url: `${base}/stall-body`, timeoutMs: 150, schema }));
    expect(err.kind).toBe("timeout");
  });

  test("the default timeout is reported as 5 s", async () => {
    const neverFetch = ((_url: unknown, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        // Reject the way an expired AbortSignal.timeout does, without waiting 5 s.
        const reason = new DOMException("The operation timed out.", "TimeoutError");
        if (init?.signal) queueMicrotask(() => reject(reason));
      })) as typeof fetch;
    const err = await failure(requestJson({ ...common, fetch: neverFetch, url: `${base}/slow`, schema }));
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("Demo did not answer (timeout after 5 s)");
  });

  test("a refused connection is network", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("x") });
    const url = `http://127.0.0.1:${closed.port}/ok`;
    await closed.stop(true);
    const err = await failure(requestJson({ ...common, url, schema }));
    expect(err.kind).toBe("network");
    expect(err.message).toBe("Demo could not be reached (connection refused)");
    expect(err.status).toBeUndefined();
  });

  test("a caller's abort signal cancels the call", async () => {
    const controller = new AbortController();
    const call = requestJson({ ...common, url: `${base}/slow`, signal: controller.signal, schema });
    setTimeout(() => controller.abort(), 20);
    const err = await failure(call);
    expect(err.kind).toBe("network");
    expect(err.message).toBe("Demo call was cancelled");
  });
});

describe("observer", () => {
  test("reports durations on success and kinds on failure", async () => {
    const errors: [string, IntegrationErrorKind][] = [];
    const durations: [string, number][] = [];
    const observer: IntegrationObserver = {
      onIntegrationError: (service, kind) => errors.push([service, kind]),
      onDuration: (service, seconds) => durations.push([service, seconds]),
    };
    await requestJson({ ...common, url: `${base}/ok`, schema, observer });
    await failure(requestJson({ ...common, url: `${base}/500`, schema, observer }));
    await failure(requestJson({ ...common, url: `${base}/mismatch`, schema, observer }));
    expect(errors).toEqual([
      ["demo", "refused"],
      ["demo", "bad_response"],
    ]);
    expect(durations).toHaveLength(3);
    for (const [service, seconds] of durations) {
      expect(service).toBe("demo");
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(5);
    }
  });
});

describe("requestEmpty", () => {
  test("accepts an empty 200", async () => {
    await requestEmpty({ ...common, url: `${base}/empty`, method: "POST" });
    expect(seen.at(-1)?.method).toBe("POST");
  });

  test("ignores a body it does not need", async () => {
    await requestEmpty({ ...common, url: `${base}/ok` });
  });

  test("maps statuses like requestJson", async () => {
    expect((await failure(requestEmpty({ ...common, url: `${base}/401` }))).kind).toBe("unauthorized");
    expect((await failure(requestEmpty({ ...common, url: `${base}/500` }))).kind).toBe("refused");
  });
});

describe("requestRaw", () => {
  test("returns the unread response on success", async () => {
    const res = await requestRaw({ ...common, url: `${base}/image` });
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  });

  test("maps failures", async () => {
    expect((await failure(requestRaw({ ...common, url: `${base}/403` }))).kind).toBe("unauthorized");
  });
});
