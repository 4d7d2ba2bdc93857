// What the code traces through. Nothing here imports OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, `serve`
// loads src/telemetry/otel.ts, which installs its Tracing here; unset, every call below is a check of one variable
// and the work runs as it would untraced.

/** Attribute values a span carries; undefined ones are left out. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** The span a piece of work runs in. */
export interface ActiveSpan {
  setAttributes(attrs: SpanAttributes): void;
  /** Mark the span failed, saying why. */
  fail(message: string): void;
}

/** The server span of one request: its name and status are known once the route has answered. */
export interface RequestSpan {
  /** Name the span after the route pattern and record the response's status. */
  answered(route: string, status: number): void;
}

/** The ids of the active span, as log lines carry them. */
export interface TraceIds {
  trace_id: string;
  span_id: string;
}

/** Tracing as it is installed: spans for requests, integration calls and internal work, and the active ids. */
export interface Tracing {
  /** Run a request in a server span that continues the trace of its `traceparent` header, if it has one. */
  request<T>(req: Request, fn: (span: RequestSpan) => Promise<T>): Promise<T>;
  /** Run one call to an external service in a client span. */
  call<T>(service: string, method: string, url: string, fn: (span: ActiveSpan) => Promise<T>): Promise<T>;
  /** Run internal work (a job, a download) in a span of its own, a child of the active one if there is one. */
  internal<T>(name: string, attrs: SpanAttributes, fn: (span: ActiveSpan) => Promise<T>): Promise<T>;
  /** Set attributes on the active span, if there is one. */
  annotate(attrs: SpanAttributes): void;
  /** Add the active span's W3C trace context (`traceparent`, `tracestate`) to an outgoing call's headers. */
  inject(headers: Record<string, string>): void;
  /** The active span's ids, or undefined outside every span. */
  ids(): TraceIds | undefined;
  /** Send what is still buffered and stop. */
  shutdown(): Promise<void>;
}

/** The installed tracing, or undefined when traces are off (the default). */
export let tracing: Tracing | undefined;

/** Install tracing (or remove it, with undefined). */
export function setTracing(t: Tracing | undefined): void {
  tracing = t;
}

const NO_SPAN: ActiveSpan = { setAttributes() {}, fail() {} };

/** Run internal work in a span when tracing is on, and as it is otherwise. */
export function traced<T>(name: string, attrs: SpanAttributes, fn: (span: ActiveSpan) => Promise<T>): Promise<T> {
  return tracing ? tracing.internal(name, attrs, fn) : fn(NO_SPAN);
}

/** Run a call to an external service in a client span when tracing is on, and as it is otherwise. */
export function tracedCall<T>(
  service: string,
  method: string,
  url: string,
  fn: (span: ActiveSpan) => Promise<T>,
): Promise<T> {
  return tracing ? tracing.call(service, method, url, fn) : fn(NO_SPAN);
}

/** Set attributes on the active span when tracing is on. */
export function annotateSpan(attrs: SpanAttributes): void {
  tracing?.annotate(attrs);
}

/** Add the active span's `traceparent` to an outgoing call's headers when tracing is on; off, nothing is added. */
export function propagateTrace(headers: Record<string, string>): void {
  tracing?.inject(headers);
}

/** Send the buffered spans and remove tracing (at shutdown). */
export async function stopTracing(): Promise<void> {
  const t = tracing;
  tracing = undefined;
  await t?.shutdown();
}
