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
