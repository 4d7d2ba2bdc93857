import { expect, test } from "bun:test";
import { createLogger } from "./logger";

test("the logger writes JSON lines at or above its level and marks request lines for batching", () => {
  const lines: [string, string, boolean | undefined][] = [];
  const log = createLogger("info", (line, level, batch) => lines.push([line, level, batch]));
  log.debug("hidden");
  log.info("request", { path: "/x" });
  log.info("MediaNest is running", { url: "http://localhost:8080" });
  log.error("boom", { error: "e" });
  expect(lines.map(([, level, batch]) => [level, batch])).toEqual([
    ["info", true],
    ["info", false],
    ["error", false],
  ]);
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
  expect(c).toEqual({ time: c.time, level: "debug", msg: "fields", path: '/a"b\\c', status: 200, nested: { ok: true } });
  expect(Object.keys(c).slice(0, 3)).toEqual(["time", "level", "msg"]);
});
