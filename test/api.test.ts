// The JSON API under /api/v1 through real personal API tokens: every route, ownership, admins' routes, the library
// as Plex shares it, revoked tokens and disabled users. Every answer is checked against the served OpenAPI document.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { createApiToken } from "../src/services/api-tokens";
import { savePlexServer } from "../src/services/auth-settings";
import { saveDownloadSettings } from "../src/services/download-settings";
import { saveLibraries, saveSeerrIntegration } from "../src/services/integrations";
import { disableUser } from "../src/services/users";
import { deleteApiToken, findApiTokenByHash } from "../src/store/api-tokens";
import { hashToken } from "../src/services/sessions";
import { findUserByPlexId, type User } from "../src/store/users";
import { type OpenApiSpec, validateResponse } from "./fakes/openapi";
import { type MediaSite, startMediaSite } from "./fakes/media-site";
import {
  plexEpisode,
  plexMovie,
  plexSection,
  plexSeason,
  plexShow,
  startFakePlexServer,
  type FakePlexServer,
} from "./fakes/plex-server";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import {
  loadSeerrSpec,
  SEERR_PERMISSIONS,
  seerrMovie,
  seerrShow,
  seerrUser,
  startFakeSeerr,
  type FakeSeerr,
} from "./fakes/seerr";
import { CookieJar } from "./helpers/cookie-jar";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const SEERR_KEY = "seerr-api-key";
const MACHINE = "machine-api-1";
const OWNER_TOKEN = "owner-token-api";
const HX = { "hx-request": "true" };
const ytdlp = Bun.which("yt-dlp") !== null;

let t: TestApp;
let seerr: FakeSeerr;
let plex: FakePlexServer;
let plextv: FakePlexTv;
let site: MediaSite;
let libraryDir: string;
let spec: OpenApiSpec;
let templates: { method: string; template: string; re: RegExp }[];
const called = new Set<string>();
const problems: string[] = [];

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: string; fields?: Record<string, string> };
  headers: Headers;
}

function templateOf(method: string, path: string): string | undefined {
  const pathname = path.split("?")[0]!;
  return templates.find((x) => x.method === method.toLowerCase() && x.re.test(pathname))?.template;
}

/** Send an API call; the answer must be JSON and match the document's schema for its operation and status. */
async function call(
  auth: string | { cookie: string; csrf?: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (typeof auth === "string") {
    if (auth) headers.authorization = `Bearer ${auth}`;
  } else {
    headers.cookie = auth.cookie;
    headers.origin = "http://localhost";
    if (auth.csrf) headers["x-csrf-token"] = auth.csrf;
  }
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await t.request(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
  const json = (await res.json()) as Answer["body"];
  const template = templateOf(method, path);
  if (!template) problems.push(`${method} ${path}: no operation in the document`);
  else {
    called.add(`${method.toLowerCase()} ${template}`);
    problems.push(...validateResponse(spec, method, template, res.status, json));
  }
  expect(res.status).not.toBe(500);
  return { status: res.status, body: json, headers: res.headers };
}

const plexServerResource = (accessToken: string) => ({
  clientIdentifier: MACHINE,
  name: "Home",
  provides: "server",
  owned: false,
  accessToken,
});

async function plexSignIn(plexToken: string): Promise<void> {
  const jar = new CookieJar(t);
  await jar.get("/login");
  await jar.post("/auth/plex/pin", { next: "/library" }, HX);
  plextv.approvePin(plextv.lastPin()!.id, plexToken);
  expect((await jar.get("/auth/plex/poll", HX)).headers.get("hx-redirect")).toBe("/library");
}

async function tokenFor(user: User): Promise<string> {
  return (await createApiToken(t.deps, user, "test")).raw;
}

let admin: User;
let alice: User; // Plex 3001, given the movies; Seerr user 2
let carol: User; // Plex 3002, given the shows; Seerr user 3
let adminToken: string;
let aliceToken: string;
let carolToken: string;

beforeAll(async () => {
  const seerrSpec = await loadSeerrSpec();
  seerr = startFakeSeerr({
    apiKey: SEERR_KEY,
    ...(seerrSpec ? { spec: seerrSpec } : {}),
    users: [
      seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: SEERR_PERMISSIONS.ADMIN }),
      seerrUser({ id: 2, displayName: "alice", plexId: 3001, permissions: SEERR_PERMISSIONS.REQUEST }),
      seerrUser({ id: 3, displayName: "carol", plexId: 3002, permissions: SEERR_PERMISSIONS.REQUEST }),
      seerrUser({ id: 4, displayName: "nope", plexId: 4004, permissions: 0 }),
    ],
    movies: [
      seerrMovie({ id: 27205, title: "Inception" }),
      seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
      seerrMovie({ id: 680, title: "Pulp Fiction", releaseDate: "1994-09-10" }),
      seerrMovie({ id: 11, title: "Star Wars", releaseDate: "1977-05-25" }),
      seerrMovie({ id: 78, title: "Blade Runner", releaseDate: "1982-06-25" }),
    ],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
    fourK: { movie: true, tv: false },
  });
  plex = startFakePlexServer({
    machineIdentifier: MACHINE,
    ownerToken: OWNER_TOKEN,
    sections: [
      plexSection({ key: "1", type: "movie", title: "Movies" }),
      plexSection({ key: "2", type: "show", title: "TV Shows" }),
    ],
    shares: { "alice-server-token": ["1"], "carol-server-token": ["2"] },
    items: [
      plexMovie({ ratingKey: "101", title: "Inception", year: 2010, addedAt: 1_700_000_300 }),
      plexMovie({ ratingKey: "102", title: "Arrival", year: 2016, addedAt: 1_700_000_100 }),
      plexShow({ ratingKey: "800", title: "Breaking Bad", addedAt: 1_700_000_050 }),
      plexSeason({ ratingKey: "900", parentRatingKey: "800", parentTitle: "Breaking Bad", index: 1 }),
      plexEpisode({
        ratingKey: "201",
        title: "Pilot",
        grandparentTitle: "Breaking Bad",
        parentRatingKey: "900",
        grandparentRatingKey: "800",
        index: 1,
      }),
    ],
  });
  plextv = startFakePlexTv();
  site = await startMediaSite();
  libraryDir = mkdtempSync(join(tmpdir(), "medianest-api-library-"));
  t = await createTestApp({
    env: { MEDIANEST_PLEX_TV_URL: plextv.url, MEDIANEST_PLEX_APP_URL: `${plextv.url}/auth` },
    logLines: [],
  });
  admin = await givenUser(t.deps, { role: "admin", username: "owner", plexId: 9001 });
  await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: SEERR_KEY });
  await savePlexServer(t.deps, { machineIdentifier: MACHINE, name: "Home", url: plex.url, ownerToken: OWNER_TOKEN });
  await saveLibraries(t.deps, [{ sectionKey: "7", title: "YouTube", type: "movie", folder: libraryDir }]);
  await saveDownloadSettings(t.deps, { allowedHosts: ["youtube.com", site.host], minFreeBytes: 0 });
  plextv.addUser({
    token: "alice-plex",
    id: 3001,
    username: "alice",
    resources: [plexServerResource("alice-server-token")],
  });
  plextv.addUser({
    token: "carol-plex",
    id: 3002,
    username: "carol",
    resources: [plexServerResource("carol-server-token")],
  });
  await plexSignIn("alice-plex");
  await plexSignIn("carol-plex");
  alice = (await findUserByPlexId(t.deps.database, 3001))!;
  carol = (await findUserByPlexId(t.deps.database, 3002))!;
  [adminToken, aliceToken, carolToken] = await Promise.all([tokenFor(admin), tokenFor(alice), tokenFor(carol)]);

  const doc = await (await t.request("/api/v1/openapi.json")).json();
  spec = { file: "MediaNest openapi.json", version: doc.openapi, document: doc };
  templates = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
    for (const method of Object.keys(item)) {
      const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+").replace(/\./g, "\\.")}$`);
      templates.push({ method, template, re });
    }
});

afterAll(async () => {
  expect(seerr.specErrors).toEqual([]);
  await t.close();
  await seerr.stop();
  await plex.stop();
  await plextv.stop();
  await site.stop();
  rmSync(libraryDir, { recursive: true, force: true });
});

describe("the OpenAPI document", () => {
  test("is a well-formed OpenAPI 3.1 document whose schemas compile as JSON Schema 2020-12", async () => {
    const served = await call("", "GET", "/api/v1/openapi.json");
    expect(served.status).toBe(200);
    const doc = spec.document as Record<string, any>;
    expect(served.body).toEqual(doc);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe("MediaNest API");
    expect(typeof doc.info.version).toBe("string");
    const ids: string[] = [];
    const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true });
    ajv.addSchema(doc.components.schemas.Error, "#/components/schemas/Error");
    const schemaProblems: string[] = [];
    const compile = (where: string, schema: unknown) => {
      try {
        ajv.compile(
          JSON.parse(
            JSON.stringify(schema).replaceAll('"#/components/schemas/Error"', '"#/components/schemas/Error#"'),
          ),
        );
      } catch (err) {
        schemaProblems.push(`${where}: ${(err as Error).message}`);
      }
    };
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      expect(path).toStartWith("/api/v1/");
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(["get", "post", "delete", "put", "patch"]).toContain(method);
        expect(typeof op.operationId).toBe("string");
        expect(typeof op.summary).toBe("string");
        ids.push(op.operationId);
        const declared = (op.parameters as { name: string; in: string; required: boolean; schema: unknown }[]).filter(
          (p) => p.in === "path",
        );
        expect(declared.map((p) => p.name).sort()).toEqual([...inPath].sort() as string[]);
        for (const p of declared) expect(p.required).toBe(true);
        for (const p of op.parameters) compile(`${method} ${path} parameter ${p.name}`, p.schema);
        if (op.requestBody) compile(`${method} ${path} body`, op.requestBody.content["application/json"].schema);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(typeof r.description).toBe("string");
          compile(`${method} ${path} ${status}`, r.content["application/json"].schema);
        }
        for (const s of op.security)
          for (const name of Object.keys(s)) expect(doc.components.securitySchemes).toHaveProperty(name);
      }
    }
    expect(schemaProblems).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("documents every route the app has under /api/v1, and nothing it does not have", async () => {
    const routes = new Set<string>();
    for (const r of await t.app.routes())
      if (r.method !== "ALL" && r.path.startsWith("/api/v1/"))
        routes.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z][A-Za-z0-9]*)(\{[^}]*\})?/g, "{$1}")}`);
    const documented = new Set(templates.map((x) => `${x.method} ${x.template}`));
    expect(routes.size).toBeGreaterThan(15);
    expect([...routes].sort()).toEqual([...documented].sort());
  });
});

describe("credentials", () => {
  test("no token, a malformed one and an unknown one are 401 JSON, never the sign-in page", async () => {
    for (const auth of ["", "not-a-token", "mn_unknown"]) {
      const res = await call(auth, "GET", "/api/v1/me");
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("Sign in or send a valid API token.");
    }
    const post = await call("mn_unknown", "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 603 });
    expect(post.status).toBe(401);
    const nowhere = await t.request("/api/v1/nothing-here", { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toEqual({ error: "There is no page at this address." });
  });

  test("a token acts as its user; a revoked token stops on the very next request", async () => {
    const user = await givenUser(t.deps);
    const { raw, token } = await createApiToken(t.deps, user, "phone");
    const me = await call(raw, "GET", "/api/v1/me");
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, role: "user", permissions: ["request", "download"] });
    expect((await findApiTokenByHash(t.deps.database, hashToken(raw)))!.lastUsedAt).not.toBeNull();
    expect(await deleteApiToken(t.deps.database, token.id, user.id)).toBe(true);
    expect((await call(raw, "GET", "/api/v1/me")).status).toBe(401);
    expect((await call(raw, "POST", "/api/v1/downloads/x/cancel")).status).toBe(401);
  });

  test("a disabled user's token stops on the very next request, and a bad token never falls back to the cookie", async () => {
    const user = await givenUser(t.deps);
    const raw = await tokenFor(user);
    const browser = await signIn(t, user);
    expect((await call(raw, "GET", "/api/v1/requests")).status).toBe(200);
    await disableUser(t.deps, { user: admin, ip: null }, user);
    expect((await call(raw, "GET", "/api/v1/requests")).status).toBe(401);
    expect((await call(raw, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 603 })).status).toBe(401);

    const other = await signIn(t, await givenUser(t.deps));
    const res = await t.request("/api/v1/me", {
      headers: { authorization: "Bearer mn_revoked", cookie: other.cookie },
    });
    expect(res.status).toBe(401);
    expect(browser.user.id).toBe(user.id);
  });

  test("a browser session may read the API, and changes state only with its CSRF token", async () => {
    const member = await signIn(t, await givenUser(t.deps));
    expect((await call({ cookie: member.cookie }, "GET", "/api/v1/me")).status).toBe(200);
    const forged = await call({ cookie: member.cookie }, "POST", "/api/v1/downloads/nope/cancel");
    expect(forged.status).toBe(403);
    expect(forged.body.error).toContain("CSRF");
    const crossSite = await t.request("/api/v1/downloads/nope/cancel", {
      method: "POST",
      headers: { cookie: member.cookie, origin: "https://evil.example", "x-csrf-token": member.csrf },
    });
    expect(crossSite.status).toBe(403);
    const withToken = await call({ cookie: member.cookie, csrf: member.csrf }, "POST", "/api/v1/downloads/nope/cancel");
    expect(withToken.status).toBe(404);
  });
});

describe("search and titles", () => {
  test("search answers Seerr's results with their availability as data", async () => {
    seerr.setAvailability("movie", 603, 5);
    const res = await call(aliceToken, "GET", "/api/v1/search?q=matrix");
    expect(res.status).toBe(200);
    const results = res.body.results as { tmdbId: number; status: string; badge: unknown; posterUrl: string }[];
    const matrix = results.find((r) => r.tmdbId === 603)!;
    expect(matrix).toMatchObject({ status: "available", badge: { kind: "available", label: "Available" } });
    expect(matrix.posterUrl).toStartWith("/img/tmdb?");
    expect(seerr.requests.findLast((r) => r.path === "/api/v1/search")!.query.query).toBe("matrix");
    const empty = await call(aliceToken, "GET", "/api/v1/search?q=%20%20");
    expect(empty.body).toEqual({ query: "", page: 1, totalPages: 0, totalResults: 0, results: [] });
  });

  test("bad search input is 422 naming the field; a failing Seerr is a readable 502", async () => {
    const long = await call(aliceToken, "GET", `/api/v1/search?q=${"x".repeat(101)}`);
    expect(long.status).toBe(422);
    expect(long.body.fields).toEqual({ q: "use at most 100 characters." });
    const page = await call(aliceToken, "GET", "/api/v1/search?q=matrix&page=0");
    expect(page.status).toBe(422);
    expect(Object.keys(page.body.fields!)).toEqual(["page"]);
    seerr.failNext(500);
    const down = await call(aliceToken, "GET", "/api/v1/search?q=unanswered");
    expect(down.status).toBe(502);
    expect(down.body.error).toContain("Seerr");
  });

  test("a title's details with per-season availability and what this person may request", async () => {
    seerr.setAvailability("tv", 1396, 4, 1, { 1: 5 });
    const show = await call(aliceToken, "GET", "/api/v1/title/tv/1396");
    expect(show.status).toBe(200);
    expect(show.body).toMatchObject({ mediaType: "tv", tmdbId: 1396, title: "Breaking Bad" });
    const seasons = show.body.seasons as { seasonNumber: number; status: string; requestable: boolean }[];
    expect(seasons.map((s) => [s.seasonNumber, s.status, s.requestable])).toEqual([
      [1, "available", false],
      [2, "unknown", true],
      [3, "unknown", true],
    ]);
    expect(show.body.request).toEqual({ standard: { state: "open", label: "" }, fourK: null });
    const movie = await call(aliceToken, "GET", "/api/v1/title/movie/27205");
    expect(movie.body).toMatchObject({ title: "Inception", seasons: null });
    const noPermission = await tokenFor(await givenUser(t.deps, { permissions: [] }));
    expect((await call(noPermission, "GET", "/api/v1/title/movie/27205")).body.request).toBeNull();

    expect((await call(aliceToken, "GET", "/api/v1/title/movie/999999")).status).toBe(404);
    const bad = await call(aliceToken, "GET", "/api/v1/title/movie/abc");
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields!)).toEqual(["tmdbId"]);
    expect((await call(aliceToken, "GET", "/api/v1/title/book/1")).status).toBe(422);
    seerr.failNext(500);
    expect((await call(aliceToken, "GET", "/api/v1/title/movie/78")).status).toBe(502);
  });
});

describe("requests", () => {
  let aliceRequest: string;

  test("a movie requested as the person goes to Seerr with X-Api-User and is answered 201", async () => {
    const res = await call(aliceToken, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 27205 });
    expect(res.status).toBe(201);
    const request = res.body.request as Record<string, unknown>;
    expect(request).toMatchObject({ title: "Inception", status: "pending", statusLabel: "Pending approval" });
    aliceRequest = request.id as string;
    const sent = seerr.requests.findLast((r) => r.method === "POST" && r.path === "/api/v1/request")!;
    expect(sent.headers["x-api-user"]).toBe("2");
    expect(sent.body).toEqual({ mediaType: "movie", mediaId: 27205 });
  });

  test("Seerr's refusals and MediaNest's own rules become JSON answers with readable messages", async () => {
    const dup = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 27205 });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toContain("Already requested");

    const nope = await tokenFor(await givenUser(t.deps, { plexId: 4004 }));
    const denied = await call(nope, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 680 });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe("Seerr refused: You do not have permission to make movie requests.");

    const fourK = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 680, is4k: true });
    expect(fourK.status).toBe(403);
    expect(fourK.body.fields).toEqual({ is4k: "You may not request in 4K. Ask the admin for it." });

    const noSeasons = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "tv", tmdbId: 1396 });
    expect(noSeasons.status).toBe(422);
    expect(noSeasons.body.fields).toEqual({ seasons: "choose at least one season." });
    const taken = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "tv", tmdbId: 1396, seasons: [1] });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toBe("Season 1 is already requested or in Plex.");
    const badBody = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "book", tmdbId: -1 });
    expect(badBody.status).toBe(422);
    expect(Object.keys(badBody.body.fields!).sort()).toEqual(["mediaType", "tmdbId"]);

    const noQuota = await tokenFor(await givenUser(t.deps, { requestsPerWeek: 0 }));
    const over = await call(noQuota, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 11 });
    expect(over.status).toBe(429);
    expect(over.body.error).toContain("Your request quota is 0");

    const unknown = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 999999 });
    expect(unknown.status).toBe(404);
  });

  test("a show's chosen seasons; the list is one's own; admins may list everyone's", async () => {
    const made = await call(carolToken, "POST", "/api/v1/requests", { mediaType: "tv", tmdbId: 1396, seasons: [2] });
    expect(made.status).toBe(201);
    expect(made.body.request).toMatchObject({ seasons: [2], mediaType: "tv" });
    const carols = await call(carolToken, "GET", "/api/v1/requests");
    const ids = (carols.body.requests as { id: string }[]).map((r) => r.id);
    expect(ids).not.toContain(aliceRequest);
    expect(ids).toHaveLength(1);
    expect((await call(carolToken, "GET", "/api/v1/requests?all=1")).status).toBe(403);
    expect((await call(carolToken, "GET", `/api/v1/requests?user=${alice.id}`)).status).toBe(403);
    const all = await call(adminToken, "GET", "/api/v1/requests?all=1&status=pending");
    const allIds = (all.body.requests as { id: string; requester: { displayName: string } }[]).map((r) => r.id);
    expect(allIds).toContain(aliceRequest);
    expect(allIds).toContain(ids[0]!);
    const alices = await call(adminToken, "GET", `/api/v1/requests?user=${alice.id}`);
    expect((alices.body.requests as { id: string }[]).map((r) => r.id)).toEqual([aliceRequest]);
    expect((await call(adminToken, "GET", "/api/v1/requests?status=nonsense")).status).toBe(422);
  });

  test("cancelling: only one's own pending request; another's reads as absent", async () => {
    const theirs = await call(carolToken, "DELETE", `/api/v1/requests/${aliceRequest}`);
    expect(theirs.status).toBe(404);
    const made = await call(aliceToken, "POST", "/api/v1/requests", { mediaType: "movie", tmdbId: 11 });
    const id = (made.body.request as { id: string }).id;
    const cancelled = await call(aliceToken, "DELETE", `/api/v1/requests/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.request).toMatchObject({ id, status: "cancelled" });
    expect(seerr.requests.findLast((r) => r.method === "DELETE")!.headers["x-api-user"]).toBe("2");
    expect((await call(aliceToken, "DELETE", `/api/v1/requests/${id}`)).status).toBe(409);
  });

  test("approving and declining are for admins; a member is refused", async () => {
    const member = await call(carolToken, "POST", `/api/v1/requests/${aliceRequest}/approve`);
    expect(member.status).toBe(403);
    expect((await call(carolToken, "POST", `/api/v1/requests/${aliceRequest}/decline`, {})).status).toBe(403);
    const approved = await call(adminToken, "POST", `/api/v1/requests/${aliceRequest}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.request).toMatchObject({ id: aliceRequest, status: "processing" });
    expect(seerr.requests.findLast((r) => r.path.endsWith("/approve"))!.method).toBe("POST");
    const again = await call(adminToken, "POST", `/api/v1/requests/${aliceRequest}/approve`);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("Not approved: it is processing, not pending.");

    const carols = await call(carolToken, "GET", "/api/v1/requests?status=pending");
    const pending = (carols.body.requests as { id: string }[])[0]!.id;
    const declined = await call(adminToken, "POST", `/api/v1/requests/${pending}/decline`, { reason: "No room left" });
    expect(declined.status).toBe(200);
    expect(declined.body.request).toMatchObject({ status: "declined", declineReason: "No room left" });
    expect((await call(adminToken, "POST", "/api/v1/requests/no-such-id/approve")).status).toBe(404);
    const long = await call(adminToken, "POST", `/api/v1/requests/${pending}/decline`, { reason: "x".repeat(501) });
    expect(long.status).toBe(422);
    expect(Object.keys(long.body.fields!)).toEqual(["reason"]);
  });
});

describe("library", () => {
  test("two members given different sections by Plex see only their own, read with their own token", async () => {
    const a = await call(aliceToken, "GET", "/api/v1/library");
    expect(a.status).toBe(200);
    expect(a.body.sections).toEqual([{ key: "1", type: "movie", title: "Movies" }]);
    expect(plex.requests.findLast((r) => r.path === "/library/sections")!.headers["x-plex-token"]).toBe(
      "alice-server-token",
    );
    const c = await call(carolToken, "GET", "/api/v1/library");
    expect(c.body.sections).toEqual([{ key: "2", type: "show", title: "TV Shows" }]);
    expect(JSON.stringify([a.body, c.body])).not.toContain("server-token");
  });

  test("a section's page, sorted and searched; another's section is 404", async () => {
    const page = await call(aliceToken, "GET", "/api/v1/library/1?sort=added");
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ section: { key: "1" }, page: 1, pageSize: 48, total: 2, pages: 1 });
    expect((page.body.items as { title: string }[]).map((i) => i.title)).toEqual(["Inception", "Arrival"]);
    expect(plex.requests.findLast((r) => r.path === "/library/sections/1/all")!.query.sort).toBe("addedAt:desc");
    const found = await call(aliceToken, "GET", "/api/v1/library/1?q=arr");
    expect((found.body.items as { title: string }[]).map((i) => i.title)).toEqual(["Arrival"]);
    expect((await call(aliceToken, "GET", "/api/v1/library/2")).status).toBe(404);
    const bad = await call(aliceToken, "GET", "/api/v1/library/1?sort=rating&page=x");
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.fields!).sort()).toEqual(["page", "sort"]);
  });

  test("an item by rating key alone, or under its section; an item of a section not shared is 404", async () => {
    const item = await call(aliceToken, "GET", "/api/v1/library/items/101");
    expect(item.status).toBe(200);
    expect(item.body).toMatchObject({ ratingKey: "101", title: "Inception", section: { key: "1" } });
    expect(item.body.watchUrl).toContain(MACHINE);
    expect((await call(aliceToken, "GET", "/api/v1/library/1/101")).status).toBe(200);
    expect((await call(aliceToken, "GET", "/api/v1/library/items/201")).status).toBe(404);
    expect((await call(aliceToken, "GET", "/api/v1/library/items/800")).status).toBe(404);
    expect((await call(aliceToken, "GET", "/api/v1/library/2/101")).status).toBe(404);
    const show = await call(carolToken, "GET", "/api/v1/library/items/800");
    expect(show.status).toBe(200);
    expect((show.body.children as { ratingKey: string }[]).map((x) => x.ratingKey)).toEqual(["900"]);
    const episode = await call(carolToken, "GET", "/api/v1/library/2/201");
    expect(episode.body.parent).toEqual({ ratingKey: "900", title: expect.any(String) });
  });

  test("Plex failing is a readable 502; a member without a Plex sign-in is told why", async () => {
    plex.failNext(500);
    const down = await call(aliceToken, "GET", "/api/v1/library/1?sort=year");
    expect(down.status).toBe(502);
    expect(down.body.error).toContain("Try again in a moment.");
    const local = await tokenFor(await givenUser(t.deps));
    const unlinked = await call(local, "GET", "/api/v1/library");
    expect(unlinked.status).toBe(403);
    expect(unlinked.body.error).toContain("not linked to Plex");
  });
});

describe.skipIf(!ytdlp)("downloads", () => {
  let aliceDownload: string;

  test("a download goes through the page's checks: the link rules, the permission, the library", async () => {
    const refusedHost = await call(aliceToken, "POST", "/api/v1/downloads", {
      url: "https://evil.example/watch?v=x",
      quality: "720",
      sectionKey: "7",
    });
    expect(refusedHost.status).toBe(422);
    expect(refusedHost.body.fields!.url).toContain("not allowed");
    const badBody = await call(aliceToken, "POST", "/api/v1/downloads", { url: "", quality: "8k" });
    expect(badBody.status).toBe(422);
    expect(Object.keys(badBody.body.fields!).sort()).toEqual(["quality", "sectionKey", "url"]);
    const noLibrary = await call(aliceToken, "POST", "/api/v1/downloads", {
      url: `${site.url}/one.html`,
      quality: "720",
      sectionKey: "99",
    });
    expect(noLibrary.status).toBe(422);
    expect(noLibrary.body.fields).toEqual({ sectionKey: "Pick one of the libraries offered." });
    const without = await tokenFor(await givenUser(t.deps, { permissions: [] }));
    const forbidden = await call(without, "POST", "/api/v1/downloads", {
      url: `${site.url}/one.html`,
      quality: "720",
      sectionKey: "7",
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toContain("may not download videos");
  });

  test("a member's download waits for approval and lists with its progress; quotas hold", async () => {
    const res = await call(aliceToken, "POST", "/api/v1/downloads", {
      url: `${site.url}/one.html`,
      quality: "720",
      sectionKey: "7",
    });
    expect(res.status).toBe(201);
    const download = res.body.download as Record<string, unknown>;
    expect(download).toMatchObject({
      status: "awaiting_approval",
      library: "YouTube",
      itemCount: 1,
      progress: { completed: 0, waiting: 1, running: 0 },
    });
    expect(download.title).toStartWith("One Clip");
    aliceDownload = download.id as string;
    const list = await call(aliceToken, "GET", "/api/v1/downloads");
    expect((list.body.downloads as { id: string }[]).map((d) => d.id)).toEqual([aliceDownload]);

    const limited = await givenUser(t.deps, { downloadsPerHour: 0 });
    const over = await call(await tokenFor(limited), "POST", "/api/v1/downloads", {
      url: `${site.url}/one.html`,
      quality: "720",
      sectionKey: "7",
    });
    expect(over.status).toBe(429);
    expect(over.body.error).toContain("no downloads per hour");
  });

  test("another member can neither see nor cancel it; the owner can; admins can cancel anyone's", async () => {
    const carols = await call(carolToken, "GET", "/api/v1/downloads");
    expect((carols.body.downloads as { id: string }[]).map((d) => d.id)).not.toContain(aliceDownload);
    const theirs = await call(carolToken, "POST", `/api/v1/downloads/${aliceDownload}/cancel`);
    expect(theirs.status).toBe(404);
    const own = await call(aliceToken, "POST", `/api/v1/downloads/${aliceDownload}/cancel`);
    expect(own.status).toBe(200);
    expect(own.body.download).toMatchObject({ id: aliceDownload, status: "cancelled", progress: { cancelled: 1 } });
    expect((await call(aliceToken, "POST", `/api/v1/downloads/${aliceDownload}/cancel`)).status).toBe(409);

    const made = await call(carolToken, "POST", "/api/v1/downloads", {
      url: `${site.url}/one.html`,
      quality: "audio",
      sectionKey: "7",
    });
    const carolDownload = (made.body.download as { id: string }).id;
    const byAdmin = await call(adminToken, "POST", `/api/v1/downloads/${carolDownload}/cancel`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.download).toMatchObject({ status: "cancelled", owner: { id: carol.id } });
  });
});

describe("webhooks on the API's table", () => {
  test("Seerr's webhook without its secret is a documented 401", async () => {
    const res = await call("wrong-secret", "POST", "/api/v1/webhooks/seerr", {
      notification_type: "TEST_NOTIFICATION",
    });
    expect(res.status).toBe(401);
  });
});

describe("the whole table", () => {
  test("every documented operation was called through a real token, and every answer matched its schema", () => {
    expect(problems).toEqual([]);
    const documented = templates.map((x) => `${x.method} ${x.template}`);
    const missing = documented.filter((op) => !called.has(op));
    expect(ytdlp ? missing : missing.filter((op) => !op.includes("/downloads"))).toEqual([]);
  });
});
