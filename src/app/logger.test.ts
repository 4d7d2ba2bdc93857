import { expect, test } from "bun:test";
import { createLogger, createSinkLogger, type LineSink } from "./logger";

test("the logger writes JSON lines at or above its level", () => {
  const lines: [string, string][] = [];
  const log = createLogger("info", (line, level) => lines.push([line, level]));
  log.debug("hidden");
  log.request({ path: "/x" });
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
  log.request({ path: "/a", status: 200 });
  log.request({ path: "/b", status: 404 });
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
  expect(lines[0]).toEqual({ time: lines[0].time, level: "info", msg: "request", path: "/a", status: 200 });
  expect(JSON.parse(err.text())).toMatchObject({ level: "warn", msg: "slow", ms: 900 });

  // Left alone, gathered lines are written a few milliseconds later; flush() writes them at once.
  log.request({ path: "/c" });
  await Bun.sleep(50);
  expect(out.text()).toContain('"path":"/c"');
  log.request({ path: "/d" });
  await log.flush();
  expect(out.text()).toContain('"path":"/d"');
});

test("a burst of request lines is written in chunks without waiting for the timer", () => {
  const out = sink();
  const log = createSinkLogger("info", out, sink());
  for (let i = 0; i < 2000; i++) log.request({ n: i });
  const written = out
    .text()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l).n);
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
  warnOnly.request({ path: "/below-level" });
  await warnOnly.flush();
  expect(quiet.text()).toBe("");
});
