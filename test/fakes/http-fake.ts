/** Pieces every fake HTTP service shares: request recording, injected faults and XML answers. */

/** One request as a fake received it; header names are lower-case. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON when the body was JSON, the raw text otherwise, undefined when empty. */
  body: unknown;
}

/** A fault for the next request: an error status, an HTML page instead of JSON, truncated JSON, or no answer. */
export type Fault = number | "html" | "garbage" | "timeout";

/** Record a request (reading its body) so tests can assert on what a client sent. */
export async function recordRequest(req: Request): Promise<RecordedRequest> {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((value, key) => {
    headers[key.toLowerCase()] = value;
  });
  const text = await req.text();
  let body: unknown;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body };
}

/** Hold injected faults and turn the next one into a response. */
export class FaultQueue {
  private readonly faults: Fault[] = [];
  private readonly released: Promise<void>;
  private release: () => void = () => {};

  constructor(
    /** Build the error body for a status fault, shaped like the real service's errors. */
    private readonly errorResponse: (status: number) => Response,
    /** How long a "timeout" fault holds the request before answering 504 anyway. */
    private readonly holdMs = 30_000,
  ) {
    this.released = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  /** Queue a fault for the next request that reaches the fake. */
  push(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Answer the next queued fault, or undefined when none is queued. */
  async next(): Promise<Response | undefined> {
    const fault = this.faults.shift();
    if (fault === undefined) return undefined;
    if (fault === "html") {
      return new Response(
        "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Be right back</body></html>",
        {
          status: 200,
          headers: { "content-type": "text/html; charset=utf-8" },
        },
      );
    }
    if (fault === "garbage") {
      return new Response('{"MediaContainer":{"size":', { headers: { "content-type": "application/json" } });
    }
    if (fault === "timeout") {
      await Promise.race([this.released, Bun.sleep(this.holdMs)]);
      return new Response("gateway timeout", { status: 504 });
    }
    return this.errorResponse(fault);
  }

  /** Let held requests finish so the server can stop. */
  releaseAll(): void {
    this.release();
  }
}

/** Tell whether the client asked for JSON; Plex services answer XML otherwise. */
export function wantsJson(req: RecordedRequest): boolean {
  return (req.headers.accept ?? "").includes("application/json");
}

/** Render a JSON value the way Plex renders XML: scalars as attributes, objects and arrays as child elements. */
export function toXml(name: string, value: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(name, value)}\n`;
}

function element(name: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join("");
  if (value === null || typeof value !== "object") return `<${name}>${escapeXml(String(value ?? ""))}</${name}>`;
  const attrs: string[] = [];
  const children: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === "object") children.push(element(key, v));
    else attrs.push(` ${key}="${escapeXml(String(v))}"`);
  }
  return children.length === 0
    ? `<${name}${attrs.join("")}/>`
    : `<${name}${attrs.join("")}>${children.join("")}</${name}>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A fake's payload mode: given, it rewrites every free-text field of the fake's JSON answers (titles, names,
 * overviews, summaries, messages) to what it returns for the field's key and original value, e.g. a script
 * payload. Without one, answers are untouched.
 */
export type PayloadMode = (key: string, original: string) => string;

// The keys whose values the services fill with text people wrote: media titles and descriptions, cast, people's
// and servers' names, status messages and incident texts.
const FREE_TEXT_KEYS = new Set([
  "title",
  "name",
  "originalTitle",
  "originalName",
  "overview",
  "tagline",
  "summary",
  "character",
  "displayName",
  "plexUsername",
  "jellyfinUsername",
  "friendlyName",
  "librarySectionTitle",
  "grandparentTitle",
  "parentTitle",
  "studio",
  "tag",
  "msg",
  "content",
  "description",
]);

/** Apply a payload mode to a JSON value: every free-text string field rewritten, everything else kept. */
export function withPayloads(value: unknown, payload: PayloadMode, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => withPayloads(v, payload, key));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPayloads(v, payload, k)]));
  return typeof value === "string" && value !== "" && FREE_TEXT_KEYS.has(key) ? payload(key, value) : value;
}

/** A JSON answer with the payload mode applied (other answers, and every answer without a mode, as they are). */
export async function answerWithPayloads(res: Response, payload: PayloadMode | undefined): Promise<Response> {
  if (!payload || !(res.headers.get("content-type") ?? "").includes("json")) return res;
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: res.status, headers: res.headers });
  }
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(withPayloads(body, payload)), { status: res.status, headers });
}

/** Serve a fake on a random loopback port: record every request, answer queued faults first, then the route. */
export function serveFake(
  requests: RecordedRequest[],
  faults: FaultQueue,
  route: (req: RecordedRequest) => Response | Promise<Response>,
  payload?: () => PayloadMode | undefined,
) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(raw) {
      const req = await recordRequest(raw);
      requests.push(req);
      return (await faults.next()) ?? answerWithPayloads(await route(req), payload?.());
    },
  });
}
