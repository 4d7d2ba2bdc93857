/** Writes JSON lines to stdout (info/debug) and stderr (warn/error). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof levels;

/** Create a JSON-lines logger that drops entries below minLevel; `write` is injectable for tests. */
export function createLogger(minLevel: LogLevel = "info", write?: (line: string, level: LogLevel, batch?: boolean) => void): Logger {
  const out = write ?? writeStdio();
  const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (levels[level] < levels[minLevel]) return;
    out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }), level, msg === "request");
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

// Request lines are gathered and written together a few milliseconds later: a write per request line costs a
// large share of a fast request. Every other line is written at once (after what is gathered), warnings and
// errors to stderr.
const FLUSH_MS = 10;

function writeStdio(): (line: string, level: LogLevel, batch?: boolean) => void {
  let buffered = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (!buffered) return;
    const text = buffered;
    buffered = "";
    process.stdout.write(text);
  };
  process.once("exit", flush);
  return (line, level, batch) => {
    if (levels[level] >= levels.warn) {
      flush();
      process.stderr.write(line + "\n");
      return;
    }
    if (!batch) {
      flush();
      process.stdout.write(line + "\n");
      return;
    }
    buffered += line + "\n";
    if (buffered.length > 64 * 1024) flush();
    else timer ??= setTimeout(flush, FLUSH_MS);
  };
}
