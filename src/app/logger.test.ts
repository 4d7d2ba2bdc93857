import { expect, test } from "bun:test";
import { setTracing, type Tracing } from "../telemetry/trace";
import { createLogger, createSinkLogger, type LineSink, type RequestFields } from "./logger";

/** A request line's fields, as the request log writes them. */
function req(path: string, more: Partial<RequestFields> = {}): RequestFields {
  return { request_id: "r1", method: "GET", path, route: path, status: 200, duration_ms: 1.5, ...more };
}

test("the logger writes JSON lines at or above its level", () => {
  const lines: [string, string][] = [];
  const log = createLogger("info", (line, level) => lines.push([line, level]));
  log.debug("hidden");
  log.request(req("/x"));
  log.info("MediaNest is running", { url: "http://localhost:8080" });
  log.error("boom", { error: "e" });
  expect(lines.map(([, level]) => level)).toEqual(["info", "info", "error"]);
  const parsed = JSON.parse(lines[0]![0]);
  expect(parsed).toMatchObject({ level: "info", msg: "request", path: "/x" });
  expect(new Date(parsed.time).getTime()).toBeGreaterThan(0);
});

test("every line is one JSON object: time, level and message first, then the fields; odd text stays intact", () => {
  const lines: string[] = [];
  const log = createLogger("debug", (line) => lines.push(line));
  log.info('said "hi"\nthen left');
  log.warn("empty fields", {});
  log.debug("fields", { path: '/a"b\\c', status: 200, user: undefined, nested: { ok: true } });
  expect(lines.every((l) => !l.includes("\n"))).toBe(true);
  const [a, b, c] = lines.map((l) => JSON.parse(l));
  expect(Object.keys(a)).toEqual(["time", "level", "msg"]);
  expect(a.msg).toBe('said "hi"\nthen left');
  expect(Object.keys(b)).toEqual(["time", "level", "msg"]);
  expect(b.level).toBe("warn");
  expect(c).toEqual({
    time: c.time,
    level: "debug",
    msg: "fields",
    path: '/a"b\\c',
    status: 200,
    nested: { ok: true },
  });
  expect(Object.keys(c).slice(0, 3)).toEqual(["time", "level", "msg"]);
});

function sink(): LineSink & { text: () => string; writes: number } {
  const chunks: string[] = [];
  return {
    write: (c: string) => chunks.push(c),
    flush: () => undefined,
    text: () => chunks.join(""),
    get writes() {
      return chunks.length;
    },
  };
}

test("on stdout and stderr: request lines are gathered and written together, in order with every other line", async () => {
  const out = sink();
  const err = sink();
  const log = createSinkLogger("info", out, err);
  log.request(req("/a"));
  log.request(req("/b", { status: 404, route: "unmatched" }));
  expect(out.text()).toBe("");

  // Any other line writes what was gathered first, so the order is that of the calls.
  log.info("MediaNest is running");
  log.warn("slow", { ms: 900 });
  const lines = out
    .text()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.msg, l.path])).toEqual([
    ["request", "/a"],
    ["request", "/b"],
    ["MediaNest is running", undefined],
  ]);
  expect(lines[0]).toEqual({ time: lines[0].time, level: "info", msg: "request", ...req("/a") });
  expect(JSON.parse(err.text())).toMatchObject({ level: "warn", msg: "slow", ms: 900 });

  // Left alone, gathered lines are written a few milliseconds later; flush() writes them at once.
  log.request(req("/c"));
  await Bun.sleep(50);
  expect(out.text()).toContain('"path":"/c"');
  log.request(req("/d"));
  await log.flush();
  expect(out.text()).toContain('"path":"/d"');
});

test("a burst of request lines is written in chunks without waiting for the timer", () => {
  const out = sink();
  const log = createSinkLogger("info", out, sink());
  for (let i = 0; i < 2000; i++) log.request(req("/n", { duration_ms: i }));
  const written = out
    .text()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l).duration_ms);
  expect(written.length).toBeGreaterThanOrEqual(1536);
  expect(written).toEqual(written.map((_, i) => i));
  expect(out.writes).toBeLessThan(10);
  return log.flush();
});

test('"request" is the request log\'s message alone: other callers cannot write it, and request lines obey the level', async () => {
  const out = sink();
  const log = createSinkLogger("info", out, sink());
  // @ts-expect-error -- the reserved message does not compile for other callers
  log.info("request", { path: "/not-a-request" });
  // @ts-expect-error -- at any level
  log.warn("request");
  // One that slips through as a plain string is written at once as an ordinary line, never gathered.
  const msg: string = "request";
  log.info(msg, { path: "/typed-as-string" });
  expect(out.text()).toContain("/typed-as-string");
  await log.flush();

  const quiet = sink();
  const warnOnly = createSinkLogger("warn", quiet, sink());
  warnOnly.request(req("/below-level"));
  await warnOnly.flush();
  expect(quiet.text()).toBe("");
});

test("the logger's own keys cannot be given as fields, so each means one thing in every line", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  // @ts-expect-error -- time, level, msg, trace_id and span_id are the logger's
  log.info("odd", { level: "fatal" });
  // @ts-expect-error -- at any level
  log.warn("odd", { trace_id: "x" });
  log.info("fine", { route: "/a", status: 200, duration_ms: 3 });
  expect(JSON.parse(lines[2]!)).toMatchObject({ msg: "fine", route: "/a", status: 200, duration_ms: 3 });
});

test("inside a span every line carries trace_id and span_id after msg; a request line those of its request", async () => {
  let active: { trace_id: string; span_id: string } | undefined;
  const stand: Tracing = {
    request: (_req, fn) => fn({ answered() {} }),
    call: (_s, _m, _u, fn) => fn({ setAttributes() {}, fail() {} }),
    internal: (_n, _a, fn) => fn({ setAttributes() {}, fail() {} }),
    annotate() {},
    inject() {},
    ids: () => active,
    shutdown: async () => {},
  };
  const out = sink();
  const log = createSinkLogger("info", out, sink());
  setTracing(stand);
  try {
    active = { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" };
    log.request(req("/traced"));
    // The request's span has ended by the time the gathered line is written.
    active = undefined;
    log.info("outside");
    active = { trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: "b7ad6b7169203331" };
    log.info("inside", { job: "status-checks" });
  } finally {
    setTracing(undefined);
  }
  const [traced, outside, inside] = out
    .text()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(Object.keys(traced).slice(0, 5)).toEqual(["time", "level", "msg", "trace_id", "span_id"]);
  expect(traced).toMatchObject({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" });
  expect(outside.trace_id).toBeUndefined();
  expect(inside).toMatchObject({ trace_id: "0af7651916cd43dd8448eb211c80319c", job: "status-checks" });
});
