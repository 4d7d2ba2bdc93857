/**
 * A fake OpenTelemetry collector: the OTLP/HTTP traces endpoint (`POST /v1/traces`) taking the JSON encoding of
 * ExportTraceServiceRequest (opentelemetry-proto's `trace/v1/trace.proto`, with ids as hex strings as OTLP/JSON
 * writes them), decoding every span it is sent and recording it, resource and attributes flattened.
 */

/** An OTLP/JSON AnyValue. */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface WireSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: WireSpan[] }[];
  }[];
}

/** One span as the collector decoded it. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  resource: Record<string, unknown>;
  scope: string;
  durationMs: number;
}

export interface FakeCollector {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  spans: CollectedSpan[];
  /** Requests refused (not JSON, or not the traces path). */
  refused: string[];
  /** Resolve once a span matching the test has arrived (or reject after ms). */
  waitFor(match: (s: CollectedSpan) => boolean, ms?: number): Promise<CollectedSpan>;
  stop(): Promise<void>;
}

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function flatten(kvs: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]));
}

const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);

/** Decode an export request into spans; throws on a shape OTLP/JSON does not have. */
export function decodeTraces(body: ExportTraceServiceRequest): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = flatten(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        if (!HEX(32).test(s.traceId) || !HEX(16).test(s.spanId)) throw new Error(`bad ids ${s.traceId}/${s.spanId}`);
        if (s.parentSpanId && !HEX(16).test(s.parentSpanId)) throw new Error(`bad parent id ${s.parentSpanId}`);
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          attributes: flatten(s.attributes),
          status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
          resource,
          scope: ss.scope?.name ?? "",
          durationMs: (Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6) | 0,
        });
      }
    }
  }
  return out;
}

/** Start the collector on a loopback port. */
export function startFakeCollector(): FakeCollector {
  const spans: CollectedSpan[] = [];
  const refused: string[] = [];
  const waiters = new Set<() => void>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const type = req.headers.get("content-type") ?? "";
      if (req.method !== "POST" || path !== "/v1/traces" || !type.startsWith("application/json")) {
        refused.push(`${req.method} ${path} ${type}`);
        return new Response("unsupported", { status: path === "/v1/traces" ? 415 : 404 });
      }
      let bytes = new Uint8Array(await req.arrayBuffer());
      if (req.headers.get("content-encoding") === "gzip") bytes = Bun.gunzipSync(bytes);
      try {
        spans.push(...decodeTraces(JSON.parse(new TextDecoder().decode(bytes)) as ExportTraceServiceRequest));
      } catch (err) {
        refused.push(`undecodable: ${(err as Error).message}`);
        return Response.json({ code: 3, message: (err as Error).message }, { status: 400 });
      }
      for (const w of waiters) w();
      // ExportTraceServiceResponse: all accepted.
      return Response.json({});
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans,
    refused,
    waitFor(match, ms = 15_000) {
      const found = spans.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const s = spans.find(match);
          if (!s) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(s);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching span within ${ms} ms; got: ${spans.map((s) => s.name).join(", ")}`));
        }, ms);
        waiters.add(check);
      });
    },
    stop: () => server.stop(true),
  };
}
