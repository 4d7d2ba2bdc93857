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
export function createLogger(minLevel: LogLevel = "info", write?: (line: string, level: LogLevel) => void): Logger {
  const out =
    write ??
    ((line: string, level: LogLevel) => {
      (levels[level] >= levels.warn ? process.stderr : process.stdout).write(line + "\n");
    });
  const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (levels[level] < levels[minLevel]) return;
    out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }), level);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
