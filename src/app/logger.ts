import { type TraceIds, tracing } from "../telemetry/trace";

/** The message of the line every HTTP request writes, reserved for `Logger.request()`. */
export const REQUEST_MSG = "request";

/** Any message but the reserved one: `log.info("request", …)` does not compile. */
export type Message<M extends string> = M extends typeof REQUEST_MSG ? never : M;

/**
 * A line's own fields. The keys every line starts with are the logger's: `time`, `level`, `msg`, and `trace_id` and
 * `span_id` inside a trace; a field of that name does not compile, so each key means one thing in every line.
 */
export type LogFields = Record<string, unknown> & {
  time?: never;
  level?: never;
  msg?: never;
  trace_id?: never;
  span_id?: never;
};

/** The fields of a request line (docs/operations.md lists them). */
export interface RequestFields {
  request_id: string;
  method: string;
  /** Without the query string. */
  path: string;
  /** The route pattern that answered ("/title/movie/:id"), or "unmatched". */
  route: string;
  status: number;
  duration_ms: number;
  user?: string | undefined;
}

/**
 * Writes JSON lines to stdout (info/debug) and stderr (warn/error): `time` (ISO 8601, UTC), `level`, `msg`, then
 * `trace_id` and `span_id` when the line is written inside a trace, then the line's own fields.
 */
export interface Logger {
  debug<M extends string>(msg: Message<M>, fields?: LogFields): void;
  info<M extends string>(msg: Message<M>, fields?: LogFields): void;
  warn<M extends string>(msg: Message<M>, fields?: LogFields): void;
  error<M extends string>(msg: Message<M>, fields?: LogFields): void;
  /** Write the info line of one finished HTTP request (src/server/middleware/request-log.ts, and nothing else). */
  request(fields: RequestFields): void;
  /** Resolves once every line so far has reached the operating system (call before process.exit). */
  flush(): Promise<void>;
}

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof levels;

// Formatting the time is a large part of a request line; lines within one millisecond share it.
let lastMs = 0;
let lastIso = "";
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

type Fields = Record<string, unknown>;

/** One JSON line: time, level and message first, the trace's ids inside one, then the fields. */
function formatLine(
  time: string,
  level: LogLevel,
  msg: string,
  fields: object | undefined,
  ids: TraceIds | undefined,
): string {
  // The fields are serialised as they are and spliced in after the fixed keys: copying them into a new object
  // first cost as much again as the serialising. Trace and span ids are hex, safe to write unquoted.
  const rest = fields ? JSON.stringify(fields) : "{}";
  const trace = ids ? `,"trace_id":"${ids.trace_id}","span_id":"${ids.span_id}"` : "";
  return `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}${trace}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}`;
}

type Line = (level: LogLevel, msg: string, fields?: Fields) => void;

function leveled(minLevel: LogLevel, line: Line, request: (fields: RequestFields) => void) {
  const at =
    (level: LogLevel) =>
    <M extends string>(msg: Message<M>, fields?: LogFields) => {
      if (levels[level] >= levels[minLevel]) line(level, msg, fields);
    };
  const requests = levels.info >= levels[minLevel];
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    request: (fields: RequestFields) => {
      if (requests) request(fields);
    },
  };
}

/**
 * Create a JSON-lines logger that drops entries below minLevel, writing to stdout and stderr; with `write`, every
 * line goes to that function as soon as it is logged instead (tests).
 */
export function createLogger(minLevel: LogLevel = "info", write?: (line: string, level: LogLevel) => void): Logger {
  if (!write) return createSinkLogger(minLevel, Bun.stdout.writer(), Bun.stderr.writer());
  const line = (level: LogLevel, msg: string, fields?: object) =>
    write(formatLine(isoNow(), level, msg, fields, tracing?.ids()), level);
  return { ...leveled(minLevel, line, (fields) => line("info", REQUEST_MSG, fields)), flush: async () => {} };
}

/** Where lines go: Bun's stdout and stderr file sinks, or stand-ins in tests. */
export interface LineSink {
  write(chunk: string): unknown;
  flush(): unknown;
}

// How long request lines wait to be formatted and written together, and how many may wait.
const GATHER_MS = 10;
const GATHER_LINES = 512;

/**
 * The logger on two sinks: info and debug to `stdout`, warnings and errors to `stderr`.
 *
 * Request lines, one for every request, are kept as their time and fields and formatted and written together
 * every few milliseconds: one write for many lines costs the server less per request than a write each. Every other
 * line is written at once, after what is gathered, so the order stays that of the calls.
 *
 * Bun's native file sinks, not process.stdout: the first touch of process.stdout builds Node's stream machinery,
 * a noticeable part of the start's time and memory. A sink queues what a full pipe cannot take yet; flush() resolves once
 * the queue is written, so nothing is lost at exit.
 */
export function createSinkLogger(minLevel: LogLevel, stdout: LineSink, stderr: LineSink): Logger {
  let gathered: (string | RequestFields | TraceIds | undefined)[] = []; // time, fields, ids, time, fields, ids, …
  let timer: ReturnType<typeof setTimeout> | undefined;
  const writeGathered = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (gathered.length === 0) return;
    const lines = gathered;
    gathered = [];
    let text = "";
    for (let i = 0; i < lines.length; i += 3) {
      text +=
        formatLine(
          lines[i] as string,
          "info",
          REQUEST_MSG,
          lines[i + 1] as RequestFields,
          lines[i + 2] as TraceIds | undefined,
        ) + "\n";
    }
    stdout.write(text);
    stdout.flush();
  };
  // A process ending some other way (an uncaught error) still writes what was gathered.
  process.once("exit", writeGathered);
  const request = (fields: RequestFields) => {
    // The ids are those of the request's span, active now and gone by the time the lines are written.
    gathered.push(isoNow(), fields, tracing?.ids());
    if (gathered.length >= GATHER_LINES * 3) writeGathered();
    else timer ??= setTimeout(writeGathered, GATHER_MS);
  };
  const line: Line = (level, msg, fields) => {
    writeGathered();
    const sink = levels[level] >= levels.warn ? stderr : stdout;
    sink.write(formatLine(isoNow(), level, msg, fields, tracing?.ids()) + "\n");
    sink.flush();
  };
  return {
    ...leveled(minLevel, line, request),
    flush: async () => {
      writeGathered();
      await Promise.all([stdout.flush(), stderr.flush()]);
    },
  };
}
