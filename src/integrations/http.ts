/** Shared HTTP plumbing for every integration client: timeouts, typed errors, body hygiene, observation. */
import type { z } from "zod";
import { annotateSpan, propagateTrace, tracedCall } from "../telemetry/trace";
import { DestinationError, guardedFetch, type DestinationPolicy } from "./destination";

/** not_allowed: the destination policy refused the address, and nothing was sent. */
export type IntegrationErrorKind = "network" | "timeout" | "refused" | "unauthorized" | "bad_response" | "not_allowed";

/** Describe a failed call to an external service in words a user can read. */
export class IntegrationError extends Error {
  override readonly name = "IntegrationError";
  /** Stable service id, e.g. "plex", "plextv", "seerr" (used as a metrics label). */
  readonly service: string;
  readonly kind: IntegrationErrorKind;
  /** HTTP status when the service answered with one. */
  readonly status?: number;
  /** Start of the error body the service sent (for logs and vendor error codes), when there was one. */
  readonly body?: string;

  constructor(opts: {
    service: string;
    kind: IntegrationErrorKind;
    message: string;
    status?: number;
    body?: string;
    cause?: unknown;
  }) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.service = opts.service;
    this.kind = opts.kind;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.body !== undefined) this.body = opts.body;
  }
}

/** Receive call outcomes so metrics can be wired without this module importing prom-client. */
export interface IntegrationObserver {
  onIntegrationError?(service: string, kind: IntegrationErrorKind): void;
  onDuration?(service: string, seconds: number): void;
}

export interface RequestOptions {
  /** Stable service id for errors and metrics ("plex", "plextv", "seerr"). */
  service: string;
  /** Name shown to users in error messages ("Plex", "plex.tv", "Seerr"). */
  displayName: string;
  fetch?: typeof fetch;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON when defined. */
  body?: unknown;
  /** Default 5000 ms; covers connecting, headers and reading the body. */
  timeoutMs?: number;
  /** Cancels the call early (e.g. the browser went away); reported as a network error. */
  signal?: AbortSignal;
  observer?: IntegrationObserver;
  /**
   * For a URL a user gave: held to this policy, and connected to the address that was checked
   * (integrations/destination.ts). Unset for the services an admin configured.
   */
  destination?: DestinationPolicy;
  /** "manual" does not follow a 3xx: it fails as a refusal naming the status. Default "follow". */
  redirect?: "follow" | "manual";
}

export interface JsonRequestOptions<T> extends RequestOptions {
  schema: z.ZodType<T>;
}

export const DEFAULT_TIMEOUT_MS = 5000;
const ERROR_BODY_LIMIT = 2000;

/** Call a JSON endpoint and return its body parsed with the schema; every failure is an IntegrationError. */
export async function requestJson<T>(opts: JsonRequestOptions<T>): Promise<T> {
  return observe(opts, async () => {
    const call = startCall(opts);
    const res = await send(opts, call);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw transportError(opts, err, call.timeout);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new IntegrationError({
        service: opts.service,
        kind: "bad_response",
        message: `${opts.displayName} answered something that is not JSON`,
        status: res.status,
        body: text.slice(0, ERROR_BODY_LIMIT),
        cause: err,
      });
    }
    const parsed = opts.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? formatIssuePath(issue.path) : "(root)";
      const what = issue ? issue.message : "invalid";
      throw new IntegrationError({
        service: opts.service,
        kind: "bad_response",
        message: `${opts.displayName} answered an unexpected shape (at ${where}: ${what})`,
        status: res.status,
        cause: parsed.error,
      });
    }
    return parsed.data;
  });
}

/** Call an endpoint answered with an empty body: only the status is checked, the body is discarded. */
export async function requestEmpty(opts: RequestOptions): Promise<void> {
  return observe(opts, async () => {
    const res = await send(opts, startCall(opts));
    await discard(res);
  });
}

/**
 * Call an endpoint and return the successful Response unread (images, streams); the caller must consume or
 * cancel its body. The timeout keeps running while the body is read.
 */
export async function requestRaw(opts: RequestOptions): Promise<Response> {
  return observe(opts, () => send(opts, startCall(opts)));
}

/** Format seconds for messages: 5000 ms → "5", 100 ms → "0.1". */
function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Run one call with its duration and failure observed, in a client span when tracing is on. */
function observe<T>(opts: RequestOptions, call: () => Promise<T>): Promise<T> {
  return tracedCall(opts.service, opts.method ?? "GET", opts.url, async (span) => {
    const started = performance.now();
    try {
      const value = await call();
      span.setAttributes({ "medianest.integration.outcome": "ok" });
      return value;
    } catch (err) {
      const error = err instanceof IntegrationError ? err : transportError(opts, err);
      opts.observer?.onIntegrationError?.(opts.service, error.kind);
      span.setAttributes({
        "medianest.integration.outcome": error.kind,
        "error.type": error.kind,
        "http.response.status_code": error.status,
      });
      span.fail(error.message);
      throw error;
    } finally {
      opts.observer?.onDuration?.(opts.service, (performance.now() - started) / 1000);
    }
  });
}

interface Call {
  timeout: AbortSignal;
  signal: AbortSignal;
}

function startCall(opts: RequestOptions): Call {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return { timeout, signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout };
}

/** Send the request and turn non-2xx statuses into errors (their bodies consumed); 2xx bodies stay unread. */
async function send(opts: RequestOptions, call: Call): Promise<Response> {
  const { timeout, signal } = call;
  const headers: Record<string, string> = { ...opts.headers };
  // Sent in the call's client span (observe): the service's own spans, if it traces, continue this trace.
  propagateTrace(headers);
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/json";
    }
  }
  const doFetch = opts.destination ? guardedFetch(opts.destination, opts.fetch ?? fetch) : (opts.fetch ?? fetch);
  let res: Response;
  try {
    res = await doFetch(opts.url, {
      method: opts.method ?? "GET",
      headers,
      body,
      signal,
      redirect: opts.redirect ?? "follow",
    });
  } catch (err) {
    throw transportError(opts, err, timeout);
  }
  annotateSpan({ "http.response.status_code": res.status });
  if (res.ok) return res;

  const errorBody = await readErrorBody(res);
  const unauthorized = res.status === 401 || res.status === 403;
  throw new IntegrationError({
    service: opts.service,
    kind: unauthorized ? "unauthorized" : "refused",
    message: unauthorized
      ? `${opts.displayName} rejected the credentials (status ${res.status})`
      : `${opts.displayName} refused the request (status ${res.status})`,
    status: res.status,
    ...(errorBody === undefined ? {} : { body: errorBody }),
  });
}

async function readErrorBody(res: Response): Promise<string | undefined> {
  try {
    const text = await res.text();
    return text === "" ? undefined : text.slice(0, ERROR_BODY_LIMIT);
  } catch {
    return undefined;
  }
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // The body is already closed; nothing is left to release.
  }
}

function transportError(opts: RequestOptions, err: unknown, timeout?: AbortSignal): IntegrationError {
  if (err instanceof IntegrationError) return err;
  if (err instanceof DestinationError) return destinationError(opts.service, opts.displayName, err);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const name = err instanceof Error ? err.name : "";
  if (name === "TimeoutError" || (timeout?.aborted && !opts.signal?.aborted)) {
    return new IntegrationError({
      service: opts.service,
      kind: "timeout",
      message: `${opts.displayName} did not answer (timeout after ${formatSeconds(timeoutMs)} s)`,
      cause: err,
    });
  }
  if (name === "AbortError" || opts.signal?.aborted) {
    return new IntegrationError({
      service: opts.service,
      kind: "network",
      message: `${opts.displayName} call was cancelled`,
      cause: err,
    });
  }
  return new IntegrationError({
    service: opts.service,
    kind: "network",
    message: `${opts.displayName} could not be reached (${describeNetworkError(err)})`,
    cause: err,
  });
}

/** Turn a destination refusal into the IntegrationError users read: nothing more than "not allowed" (or not found). */
export function destinationError(service: string, displayName: string, err: DestinationError): IntegrationError {
  return err.reason === "not_allowed"
    ? new IntegrationError({
        service,
        kind: "not_allowed",
        message: `${displayName} was not called: ${err.message}`,
        cause: err,
      })
    : new IntegrationError({
        service,
        kind: "network",
        message: `${displayName} could not be reached (host not found)`,
        cause: err,
      });
}

function describeNetworkError(err: unknown): string {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  switch (code) {
    case "ConnectionRefused":
    case "ECONNREFUSED":
      return "connection refused";
    case "ConnectionClosed":
    case "ECONNRESET":
      return "connection closed";
    case "ENOTFOUND":
    case "FailedToOpenSocket":
      return "host not found";
    case "CERT_HAS_EXPIRED":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      return "TLS certificate not trusted";
    default:
      return err instanceof Error && err.message ? err.message : "network error";
  }
}
