// Lookups kept between writes on SQLite: a write through the store is seen at once, a write by another process
// within KEEP_MS, and nothing is kept on PostgreSQL.
import { afterAll, afterEach, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { countQueries, type QueryCounter } from "../../test/bench/query-count";
import { postgresAvailable } from "../../test/helpers/services";
import { createTestApp, givenUser, signIn, type TestApp } from "../../test/helpers/test-app";
import { openSqlite, type Database } from "../db/database";
import { resolveSession, SESSION_COOKIE } from "../services/sessions";
import { KEEP_MS, keptLookup, writing } from "./kept";
import { countUnreadNotifications, insertNotification, markAllNotificationsRead } from "./notifications";
import { findUserById, updateUser } from "./users";

describe("kept lookups on SQLite", () => {
  let t: TestApp;
  let queries: QueryCounter;
  beforeAll(async () => {
    t = await createTestApp();
    await givenUser(t.deps, { role: "admin" }); // setup done: pages are served, not sent to /setup
    queries = countQueries(t.deps.database.sqlite!);
  });
  afterAll(() => t.close());
  afterEach(() => setSystemTime());

  test("a repeated lookup runs no statement; a write through the store is seen by the next one", async () => {
    const user = await givenUser(t.deps, { displayName: "Before" });
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("Before");
    queries.reset();
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("Before");
    expect(queries.count).toBe(0);
    await updateUser(t.deps.database, user.id, { displayName: "After" });
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("After");
  });

  test("a disabled user's session stops at their next request, and so does a signed-out one", async () => {
    const user = await givenUser(t.deps);
    const browser = await signIn(t, user);
    const raw = browser.cookie.slice(SESSION_COOKIE.length + 1);
    expect((await resolveSession(t.deps, raw))?.user.id).toBe(user.id);
    expect((await resolveSession(t.deps, raw))?.user.id).toBe(user.id);
    await updateUser(t.deps.database, user.id, { status: "disabled" });
    expect(await resolveSession(t.deps, raw)).toBeUndefined();

    const other = await signIn(t, await givenUser(t.deps));
    const page = await other.get("/");
    expect(await page.text()).toContain('name="csrf-token"');
    const out = await other.post("/logout");
    expect(out.status).toBeLessThan(400);
    const after = await other.get("/");
    expect(await after.text()).not.toContain('name="csrf-token"');
  });

  test("the unread count follows new and read notifications at once", async () => {
    const user = await givenUser(t.deps);
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(0);
    await insertNotification(t.deps.database, {
      id: crypto.randomUUID(),
      userId: user.id,
      kind: "test",
      title: "Hello",
      body: "",
      link: null,
      createdAt: new Date(),
      readAt: null,
    });
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(1);
    await markAllNotificationsRead(t.deps.database, user.id, new Date());
    expect(await countUnreadNotifications(t.deps.database, user.id)).toBe(0);
  });

  test("a write by another process is seen within KEEP_MS", async () => {
    const user = await givenUser(t.deps, { displayName: "Mine" });
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("Mine");
    const elsewhere = openSqlite(t.deps.database.location!);
    try {
      await updateUser(elsewhere, user.id, { displayName: "Theirs" });
    } finally {
      await elsewhere.close();
    }
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("Mine");
    setSystemTime(new Date(Date.now() + KEEP_MS + 1));
    expect((await findUserById(t.deps.database, user.id))?.displayName).toBe("Theirs");
  });

  test("a write that lands while a lookup reads makes what it read stale", async () => {
    let version = 1;
    const database = t.deps.database;
    const lookup = keptLookup(["users"], async () => {
      const seen = version;
      await writing(database, "users", async () => void (version = 2));
      return seen;
    });
    expect(await lookup(database, "k")).toBe(1);
    expect(await lookup(database, "k")).toBe(2);
  });

  test("kept values are frozen: a caller cannot change them for everyone", async () => {
    const user = await givenUser(t.deps);
    const kept = (await findUserById(t.deps.database, user.id))!;
    expect(() => {
      (kept as { displayName: string }).displayName = "changed";
    }).toThrow();
    expect(() => (kept.permissions as string[]).push("admin")).toThrow();
  });
});

describe.skipIf(!postgresAvailable)("kept lookups on PostgreSQL", () => {
  test("nothing is kept: every lookup reads", async () => {
    const t = await createTestApp({ dialect: "postgres" });
    try {
      const database: Database = t.deps.database;
      let reads = 0;
      const lookup = keptLookup(["users"], async () => ++reads);
      await lookup(database, "k");
      await lookup(database, "k");
      expect(reads).toBe(2);
    } finally {
      await t.close();
    }
  });
});
