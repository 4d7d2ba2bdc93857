import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Access } from "../src/server/access";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { createTestApp, givenUser, signIn, type Browser, type TestApp } from "./helpers/test-app";

// Walks every route of the app as anonymous, member and admin. A route nobody declared an access rule for fails.

interface RouteInfo {
  method: string;
  path: string;
  access: Access | undefined;
}

async function collectRoutes(t: TestApp): Promise<RouteInfo[]> {
  const byKey = new Map<string, RouteInfo>();
  for (const r of await t.app.routes()) {
    if (r.method === "ALL") continue;
    const key = `${r.method} ${r.path}`;
    const info = byKey.get(key) ?? { method: r.method, path: r.path, access: undefined };
    const access = (r.handler as { access?: Access }).access;
    if (access) info.access = access;
    byKey.set(key, info);
  }
  return [...byKey.values()];
}

function concrete(path: string): string {
  return path.replace(/:[a-zA-Z]+(\{[^}]*\})?/g, "00000000-0000-0000-0000-000000000000");
}

describe("route access rules", () => {
  let t: TestApp;
  let member: Browser;
  let admin: Browser;
  let routes: RouteInfo[];
  let plextv: FakePlexTv;

  beforeAll(async () => {
    plextv = startFakePlexTv();
    t = await createTestApp({ env: { MEDIANEST_PLEX_TV_URL: plextv.url } });
    admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    member = await signIn(t, await givenUser(t.deps, { role: "user" }));
    routes = await collectRoutes(t);
  });
  afterAll(async () => {
    await t.close();
    await plextv.stop();
  });

  test("every area's route table fits Hono's RegExpRouter (no static segment beside a parameter), so matching stays one regex", async () => {
    const apps = await t.app.loadAll();
    expect(apps.length).toBeGreaterThan(5);
    for (const app of apps) {
      const path = app.routes.find((r) => r.method === "GET" && !r.path.includes("*"))?.path ?? "/";
      await app.request(`http://localhost${path.replace(/:[a-zA-Z]+/g, "x")}`);
      const router = app.router as unknown as { activeRouter?: { name: string } };
      expect(`${path}: ${router.activeRouter?.name}`).toBe(`${path}: RegExpRouter`);
    }
  });

  test("a request reaches its area by the first path segment, escaped or not, and unknown areas answer 404", async () => {
    expect((await member.get("/status")).status).toBe(200);
    expect((await member.get("/%73tatus")).status).toBe(200);
    expect((await member.get("/status/nothing-here")).status).toBe(404);
    expect((await member.get("/no-such-area/x")).status).toBe(404);
    expect((await t.request("/healthz?x=/admin")).status).toBe(200);
  });

  test("every route declares who may call it", () => {
    expect(routes.length).toBeGreaterThan(20);
    const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual([]);
  });

  test("member and admin routes refuse the wrong caller; no route answers 500", async () => {
    const problems: string[] = [];
    const send = async (who: "anonymous" | "member" | "admin", r: RouteInfo) => {
      const path = concrete(r.path);
      if (r.path === "/static/:file" || r.path === "/logout") return undefined;
      if (r.method === "GET") {
        return who === "anonymous" ? t.request(path) : (who === "member" ? member : admin).get(path);
      }
      if (who === "anonymous") return t.request(path, { method: r.method, headers: { origin: "http://localhost" } });
      const browser = who === "member" ? member : admin;
      if (r.method === "POST") return browser.post(path, {});
      // DELETE and the like (the JSON API): the session's CSRF token in its header, as htmx sends it.
      return t.request(path, {
        method: r.method,
        headers: { cookie: browser.cookie, origin: "http://localhost", "x-csrf-token": browser.csrf },
      });
    };
    for (const r of routes) {
      for (const who of ["anonymous", "member", "admin"] as const) {
        const res = await send(who, r);
        if (!res) continue;
        const toLogin =
          res.status === 401 || (res.status === 303 && (res.headers.get("location") ?? "").startsWith("/login"));
        const label = `${r.method} ${r.path} as ${who} → ${res.status}`;
        // The JSON API says an upstream is not connected or failing with 502/503 and a message; anything else is not.
        const upstream =
          (res.status === 502 || res.status === 503) &&
          r.path.startsWith("/api/") &&
          typeof ((await res.clone().json()) as { error?: unknown }).error === "string";
        if (res.status >= 500 && !upstream) problems.push(`${label} (server error)`);
        if (r.access === "user" || r.access === "admin") {
          if (who === "anonymous" && !toLogin) problems.push(`${label}: anonymous got in`);
          if (who !== "anonymous" && toLogin) problems.push(`${label}: signed-in caller sent to sign in`);
        }
        if (r.access === "admin" && who === "member" && res.status !== 403) problems.push(`${label}: member got in`);
        if (r.access === "admin" && who === "admin" && res.status === 403) problems.push(`${label}: admin refused`);
      }
    }
    expect(problems).toEqual([]);
  });
});
