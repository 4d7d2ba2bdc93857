// OpenTelemetry traces over OTLP/HTTP (JSON). Loaded by `serve` only when OTEL_EXPORTER_OTLP_ENDPOINT is set, so a
// server without it never evaluates any of this.
import {
  type Attributes,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import { VERSION } from "../version";
import type { ActiveSpan, SpanAttributes, Tracing } from "./trace";

export interface TracingOptions {
  /** The collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** service.name of every span (OTEL_SERVICE_NAME). */
  serviceName: string;
}

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

function clean(attrs: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

function handle(span: Span): ActiveSpan {
  return {
    setAttributes: (attrs) => span.setAttributes(clean(attrs)),
    fail: (message) => span.setStatus({ code: SpanStatusCode.ERROR, message }),
  };
}

/** End the span when the work settles; a thrown error marks it failed. */
function settle<T>(span: Span, work: Promise<T>): Promise<T> {
  return work.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      if (err instanceof Error) span.recordException(err);
      span.end();
      throw err;
    },
  );
}

/**
 * Register the OpenTelemetry SDK (AsyncLocalStorage context, W3C trace context, a batching OTLP/HTTP JSON exporter)
 * and return the Tracing that src/telemetry/trace.ts hands to the code.
 */
export function startTracing(opts: TracingOptions): Tracing {
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // OTEL_RESOURCE_ATTRIBUTES adds to the resource; the service's name and version are MediaNest's.
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, [ATTR_SERVICE_VERSION]: VERSION }),
  );
  // OTEL_EXPORTER_OTLP_HEADERS (a collector's credentials) and OTEL_EXPORTER_OTLP_TIMEOUT are read by the exporter.
  const exporter = new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, "")}/v1/traces` });
  const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer("medianest", VERSION);

  return {
    request(req, fn) {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
      const method = req.method;
      const span = tracer.startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: new URL(req.url).pathname },
        },
        parent,
      );
      const answered = (route: string, status: number) => {
        span.updateName(`${method} ${route}`);
        span.setAttributes({ [ATTR_HTTP_ROUTE]: route, [ATTR_HTTP_RESPONSE_STATUS_CODE]: status });
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      };
      return settle(
        span,
        context.with(trace.setSpan(parent, span), () => fn({ answered })),
      );
    },
    call(service, method, url, fn) {
      // Only the host and port: integration URLs may carry tokens in their query.
      let host: string | undefined;
      let port: number | undefined;
      try {
        const u = new URL(url);
        host = u.hostname;
        port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
      } catch {
        // Not a URL: the call itself fails and says so.
      }
      return tracer.startActiveSpan(
        `${service} ${method}`,
        {
          kind: SpanKind.CLIENT,
          attributes: clean({
            "medianest.integration.service": service,
            [ATTR_HTTP_REQUEST_METHOD]: method,
            [ATTR_SERVER_ADDRESS]: host,
            [ATTR_SERVER_PORT]: port,
          }),
        },
        (span) => settle(span, fn(handle(span))),
      );
    },
    internal(name, attrs, fn) {
      return tracer.startActiveSpan(name, { attributes: clean(attrs) }, (span) => settle(span, fn(handle(span))));
    },
    annotate(attrs) {
      trace.getActiveSpan()?.setAttributes(clean(attrs));
    },
    inject(headers) {
      // The default setter writes headers[key] = value.
      propagation.inject(context.active(), headers);
    },
    ids() {
      const span = trace.getActiveSpan();
      if (!span) return undefined;
      const ids = span.spanContext();
      return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
    },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
