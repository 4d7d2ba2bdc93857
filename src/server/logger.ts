/** Writes JSON lines to stdout (info/debug) and stderr (warn/error). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
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

/** Create a JSON-lines logger that drops entries below minLevel; `write` is injectable for tests. */
export function createLogger(minLevel: LogLevel = "info", write?: (line: string, level: LogLevel, batch?: boolean) => void): Logger {
  const stdio = write ? undefined : writeStdio();
  const out = write ?? stdio!.write;
  const log = (level: LogLevel) => {
    const head = `","level":"${level}","msg":`;
    return (msg: string, fields?: Record<string, unknown>) => {
      if (levels[level] < levels[minLevel]) return;
      // The fields are serialised as they are and spliced in after the fixed keys: copying them into a new object
      // first cost as much again as the serialising (a request line is written for every request).
      const rest = fields ? JSON.stringify(fields) : "{}";
      out(`{"time":"${isoNow()}${head}${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}`, level, msg === "request");
    };
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), flush: async () => stdio?.flush() };
}

// Request lines are gathered and written together a few milliseconds later: a write per request line costs a
// large share of a fast request. Every other line is written at once (after what is gathered), warnings and
// errors to stderr.
//
// Bun's native file sinks, not process.stdout: the first touch of process.stdout builds Node's stream machinery,
// which costs about 15 ms and 6 MiB at start. A sink queues what a full pipe cannot take yet; flush() resolves once
// the queue is written, so nothing is lost at exit.
const FLUSH_MS = 10;

function writeStdio(): { write: (line: string, level: LogLevel, batch?: boolean) => void; flush: () => Promise<void> } {
  const stdout = Bun.stdout.writer();
  const stderr = Bun.stderr.writer();
  let buffered = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const writeBuffered = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!buffered) return;
    stdout.write(buffered);
    buffered = "";
    stdout.flush();
  };
  // A process ending some other way (an uncaught error) still writes what was gathered.
  process.once("exit", writeBuffered);
  return {
    write: (line, level, batch) => {
      if (levels[level] >= levels.warn) {
        writeBuffered();
        stderr.write(line + "\n");
        stderr.flush();
        return;
      }
      if (!batch) {
        buffered += line + "\n";
        writeBuffered();
        return;
      }
      buffered += line + "\n";
      if (buffered.length > 64 * 1024) writeBuffered();
      else timer ??= setTimeout(writeBuffered, FLUSH_MS);
    },
    flush: async () => {
      writeBuffered();
      await Promise.all([stdout.flush(), stderr.flush()]);
    },
  };
}
