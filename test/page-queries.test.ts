// The signed-in pages run a fixed number of queries however many rows the database holds: each page is read on a
// seeded database (test/bench/seed.ts) and on one with twice the rows, and the statements each ran are counted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SESSION_COOKIE } from "../src/services/sessions";
import { forgetKept } from "../src/store/kept";
import { countQueries, type QueryCounter } from "./bench/query-count";
import { seedDatabase, type SeedResult } from "./bench/seed";
import { createTestApp, type TestApp } from "./helpers/test-app";

const MEMBER_PAGES = ["/", "/status", "/notifications", "/requests", "/downloads"];
const ADMIN_PAGES = ["/admin/requests", "/admin/downloads"];

interface Seeded {
  t: TestApp;
  seed: SeedResult;
  queries: QueryCounter;
}

async function seeded(scale: number): Promise<Seeded> {
  const t = await createTestApp();
  const queries = countQueries(t.deps.database.sqlite!);
  const seed = await seedDatabase(t.deps.database, {
    scale,
    integrationsAt: "http://127.0.0.1:9",
    secretBox: t.deps.secretBox,
  });
  return { t, seed, queries };
}

/**
 * Statements one request of the page ran, after a first request warmed what is loaded once. The session, user and
 * unread count that SQLite keeps between writes are forgotten first: every lookup of the page is counted.
 */
async function queriesOf(s: Seeded, path: string, admin: boolean): Promise<number> {
  const cookie = `${SESSION_COOKIE}=${(admin ? s.seed.admin : s.seed.member).cookie}`;
  const first = await s.t.request(path, { headers: { cookie } });
  expect(first.status).toBe(200);
  await first.arrayBuffer();
  forgetKept(s.t.deps.database);
  s.queries.reset();
  const res = await s.t.request(path, { headers: { cookie } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return s.queries.count;
}

describe("queries per page", () => {
  let small: Seeded;
  let large: Seeded;
  beforeAll(async () => {
    small = await seeded(0.1);
    large = await seeded(0.2);
  });
  afterAll(async () => {
    await small?.t.close();
    await large?.t.close();
  });

  test("the seed fills every table it promises, in proportion to its scale", () => {
    expect(small.seed.counts.users).toBe(50);
    expect(large.seed.counts.media_requests).toBe(2 * small.seed.counts.media_requests!);
    expect(large.seed.counts.notifications).toBe(2 * small.seed.counts.notifications!);
    const statuses = small.t.deps.database
      .sqlite!.query("SELECT count(DISTINCT status) AS n FROM media_requests")
      .get() as { n: number };
    expect(statuses.n).toBe(10);
  });

  for (const path of [...MEMBER_PAGES, ...ADMIN_PAGES]) {
    test(`${path} runs as many queries on twice the rows`, async () => {
      const admin = ADMIN_PAGES.includes(path);
      const a = await queriesOf(small, path, admin);
      const b = await queriesOf(large, path, admin);
      expect(a).toBeGreaterThan(0);
      expect(b).toBe(a);
    });
  }
});
