// A replica that loses PostgreSQL or Redis says so on /readyz and answers pages with a clear 503, never wrong data
// or a crash; when the service comes back, so does MediaNest. The services are cut with a TCP proxy in between.
import { afterEach, describe, expect, test } from "bun:test";
import { startTcpProxy, type TcpProxy } from "./helpers/tcp-proxy";
import { PG_ADMIN_URL, postgresAvailable, REDIS_TEST_URL, redisAvailable } from "./helpers/services";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

let t: TestApp | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  proxy?.restore();
  await t?.close();
  proxy?.stop();
  t = undefined;
  proxy = undefined;
});

async function until(check: () => Promise<boolean>, ms = 8000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(100);
  }
  return false;
}

describe.skipIf(!postgresAvailable)("losing PostgreSQL", () => {
  test("pages answer 503 naming the database, /readyz says so, and both recover when it returns", async () => {
    const pg = new URL(PG_ADMIN_URL);
    proxy = startTcpProxy(pg.hostname, Number(pg.port || 5432));
    const logLines: string[] = [];
    t = await createTestApp({ dialect: "postgres", via: { postgres: `127.0.0.1:${proxy.port}` }, logLines });
    const user = await givenUser(t.deps, { role: "admin" });
    const browser = await signIn(t, user);
    expect((await browser.get("/account")).status).toBe(200);

    proxy.cut();
    const page = await browser.get("/account");
    expect(page.status).toBe(503);
    expect(page.headers.get("retry-after")).toBe("5");
    expect(await page.text()).toContain("MediaNest cannot reach its database right now");
    const fragment = await browser.get("/notifications", { "hx-request": "true" });
    expect(fragment.status).toBe(503);
    expect(fragment.headers.get("hx-retarget")).toBe("#alerts");
    const api = await t.request("/api/v1/me", { headers: { cookie: browser.cookie } });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: string }).error).toContain("database");
    const ready = await t.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, database: "down" });

    // The outage is logged (captured here, so a clean run reads clean), once per page that met it.
    expect(logLines.some((l) => l.includes('"level":"error"') && l.includes('"msg":"database unreachable"'))).toBe(
      true,
    );

    proxy.restore();
    expect(await until(async () => (await browser.get("/account")).status === 200)).toBe(true);
    expect((await t.request("/readyz")).status).toBe(200);
  });
});

describe.skipIf(!postgresAvailable || !redisAvailable)("losing Redis", () => {
  test("rate-limited actions answer 503 naming Redis, /readyz says so, and both recover when it returns", async () => {
    const redis = new URL(REDIS_TEST_URL);
    proxy = startTcpProxy(redis.hostname, Number(redis.port || 6379));
    const logLines: string[] = [];
    t = await createTestApp({ dialect: "postgres", redis: true, via: { redis: `127.0.0.1:${proxy.port}` }, logLines });
    await givenUser(t.deps, {
      role: "admin",
      username: "owner",
      passwordHash: await Bun.password.hash("owner-password-1"),
    });
    const login = () =>
      t!.request("/login", {
        method: "POST",
        body: new URLSearchParams({ username: "owner", password: "owner-password-1" }),
        headers: { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" },
      });
    expect((await login()).status).toBe(303);

    proxy.cut();
    const refused = await login();
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain("MediaNest cannot reach its Redis right now");
    expect(await until(async () => (await t!.request("/readyz")).status === 503)).toBe(true);
    expect(((await (await t.request("/readyz")).json()) as { coordination: string }).coordination).toBe("redis down");
    expect(logLines.some((l) => l.includes('"msg":"Redis unreachable"'))).toBe(true);

    proxy.restore();
    expect(await until(async () => (await login()).status === 303)).toBe(true);
    expect(await until(async () => (await t!.request("/readyz")).status === 200)).toBe(true);
  });
});
