import { expect, test } from "bun:test";
import { formatAgo, formatDate, plural } from "./format";

test("formatAgo says how long ago in words, and the date beyond a week", () => {
  const now = Date.parse("2026-11-22T12:00:00Z");
  expect(formatAgo(new Date(now - 20_000), now)).toBe("just now");
  expect(formatAgo(new Date(now - 5 * 60_000), now)).toBe("5 min ago");
  expect(formatAgo(new Date(now - 3 * 3_600_000), now)).toBe("3 h ago");
  expect(formatAgo(new Date(now - 26 * 3_600_000), now)).toBe("1 day ago");
  expect(formatAgo(new Date(now - 3 * 86_400_000), now)).toBe("3 days ago");
  expect(formatAgo(new Date(now - 9 * 86_400_000), now)).toBe("2026-11-13 12:00 UTC");
  expect(formatAgo(new Date(now + 60_000), now)).toBe("just now");
  expect(formatDate(null)).toBe("");
});

test("plural picks the noun by English plural rules", () => {
  expect(plural(0, "user", "users")).toBe("0 users");
  expect(plural(1, "user", "users")).toBe("1 user");
  expect(plural(2, "entry", "entries")).toBe("2 entries");
  expect(plural(1.5, "day", "days")).toBe("1.5 days");
});

test("plural chooses as Intl.PluralRules('en') does for counts", () => {
  const rules = new Intl.PluralRules("en");
  for (const n of [0, 1, -1, 2, -2, 0.5, 1.5, 11, 21, 101, 1e21, Number.NaN, Number.POSITIVE_INFINITY])
    expect(plural(n, "one", "other")).toBe(`${n} ${rules.select(n)}`);
});
