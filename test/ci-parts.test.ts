// Under CI=true the real parts the suites need must be present: a missing one fails the run here instead of
// letting its suites skip quietly. A local run without them still skips those suites, visibly.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { NGINX } from "./cluster/harness";
import { PG_ADMIN_URL, postgresAvailable, REDIS_TEST_URL, redisAvailable } from "./helpers/services";

const inCI = process.env.CI === "true";
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const parts: [name: string, present: boolean, hint: string][] = [
  ["PostgreSQL", postgresAvailable, `nothing answers at ${PG_ADMIN_URL}`],
  ["Redis", redisAvailable, `nothing answers at ${REDIS_TEST_URL}`],
  ["Chromium", existsSync(chromium), `${chromium} is missing (Debian package chromium)`],
  [
    "PostgreSQL client tools",
    ["pg_dump", "pg_restore", "psql"].every((t) => Bun.which(t) !== null),
    "pg_dump, pg_restore or psql is not on PATH (Debian package postgresql-client)",
  ],
  ["promtool", Bun.which("promtool") !== null, "promtool is not on PATH (Debian package prometheus)"],
  ["yt-dlp", Bun.which("yt-dlp") !== null, "yt-dlp is not on PATH (Debian package yt-dlp)"],
  ["ffmpeg", Bun.which("ffmpeg") !== null, "ffmpeg is not on PATH (Debian package ffmpeg)"],
  ["nginx", NGINX !== null, "nginx is not installed (Debian package nginx or nginx-light)"],
];

if (!inCI) {
  const missing = parts.filter(([, present]) => !present).map(([name]) => name);
  if (missing.length) console.warn(`tests: not under CI, so missing ${missing.join(", ")} only skips suites`);
}

describe.skipIf(!inCI)("CI=true has every real part", () => {
  for (const [name, present, hint] of parts) {
    test(name, () => {
      expect(present ? "present" : `missing: ${hint}`).toBe("present");
    });
  }
});
