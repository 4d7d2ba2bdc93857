import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSeerrClient } from "../../src/integrations/seerr/client";
import { findSpec, loadSpec, type OpenApiSpec, patchSchema, validateRequestBody, validateResponse } from "./openapi";
import { type FakeSeerr, SEERR_PERMISSIONS, seerrMovie, seerrShow, seerrUser, startFakeSeerr } from "./seerr";

const API_KEY = "seerr-test-key";
const seerrSpecFile = findSpec("seerr-api.yml");
const overseerrSpecFile = findSpec("overseerr-api.yml");

if (!seerrSpecFile) console.warn("seerr.test: ../shared/specs/seerr-api.yml is absent; skipping Seerr spec validation");
if (!overseerrSpecFile)
  console.warn("seerr.test: ../shared/specs/overseerr-api.yml is absent; skipping Overseerr spec validation");

let fake: FakeSeerr;

beforeAll(() => {
  fake = startFakeSeerr({
    apiKey: API_KEY,
    updateAvailable: true,
    commitsBehind: 3,
    users: [
      seerrUser({ id: 1, displayName: "owner", permissions: SEERR_PERMISSIONS.ADMIN }),
      seerrUser({ id: 2, displayName: "Alice", permissions: SEERR_PERMISSIONS.REQUEST }),
      seerrUser({ id: 3, displayName: "Local Bob", plexId: null, plexUsername: null, username: "bob" }),
    ],
    movies: [
      seerrMovie({ id: 27205, title: "Inception" }),
      seerrMovie({ id: 157336, title: "Interstellar", releaseDate: "2014-11-05" }),
    ],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 5 })],
  });
  fake.setAvailability("movie", 157336, 5);
});

afterAll(async () => {
  await fake.stop();
});

async function send(
  method: string,
  path: string,
  opts: { body?: unknown; user?: number } = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${fake.url}/api/v1${path}`, {
    method,
    headers: {
      "X-Api-Key": API_KEY,
      ...(opts.user !== undefined ? { "X-Api-User": String(opts.user) } : {}),
      ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  return { status: res.status, body: await res.json() };
}

// Plex-imported users have no local user name and the real server sends `"username": null`; both documents say
// string. Relax only that field.
function relaxUsername(spec: OpenApiSpec) {
  const before = patchSchema(spec, "/components/schemas/User/properties/username", { type: ["string", "null"] });
  expect(before).toEqual({ type: "string" });
}

for (const [name, file] of [
  ["seerr-api.yml", seerrSpecFile],
  ["overseerr-api.yml", overseerrSpecFile],
] as const) {
  describe.skipIf(!file)(`fake Seerr matches ${name}`, () => {
    let spec: OpenApiSpec;

    beforeAll(async () => {
      spec = await loadSpec(file as string);
      relaxUsername(spec);
    });

    test("GET /status", async () => {
      const { status, body } = await send("GET", "/status");
      expect(status).toBe(200);
      expect(body).toMatchObject({ updateAvailable: true, commitsBehind: 3 });
      expect(validateResponse(spec, "GET", "/status", status, body)).toEqual([]);
    });

    test("GET /user", async () => {
      const { status, body } = await send("GET", "/user?take=2&skip=0");
      expect(status).toBe(200);
      expect((body as { results: unknown[] }).results).toHaveLength(2);
      expect(validateResponse(spec, "GET", "/user", status, body)).toEqual([]);
    });

    test("GET /search", async () => {
      const { status, body } = await send("GET", "/search?query=in&page=1");
      expect(status).toBe(200);
      // Inception, Interstellar (available: carries mediaInfo) and Breaking Bad: movie and tv result shapes.
      const results = (body as { results: { id: number; mediaType: string; mediaInfo?: unknown }[] }).results;
      expect(results.map((r) => r.mediaType)).toEqual(["movie", "movie", "tv"]);
      expect(results.find((r) => r.id === 157336)?.mediaInfo).toMatchObject({ status: 5 });
      expect(validateResponse(spec, "GET", "/search", status, body)).toEqual([]);
    });

    test("GET /movie/{movieId} and GET /tv/{tvId}", async () => {
      const movie = await send("GET", "/movie/157336");
      expect((movie.body as { mediaInfo: { status: number } }).mediaInfo.status).toBe(5);
      expect(validateResponse(spec, "GET", "/movie/{movieId}", movie.status, movie.body)).toEqual([]);
      const tv = await send("GET", "/tv/1396");
      expect(validateResponse(spec, "GET", "/tv/{tvId}", tv.status, tv.body)).toEqual([]);
    });

    test("the validator catches drift in a Seerr shape", () => {
      const errors = validateResponse(spec, "GET", "/user", 200, {
        results: [{ id: "1", email: "a@b.c", createdAt: "x", updatedAt: "x" }],
      });
      expect(errors).toEqual(["GET /user 200: /results/0/id must be integer"]);
      expect(validateResponse(spec, "GET", "/status", 200, { version: 2 })).toEqual([
        "GET /status 200: /version must be string",
      ]);
    });

    test("POST /request answers a MediaRequest, GET /request lists it", async () => {
      const tmdbId = name === "seerr-api.yml" ? 27205 : 1396;
      const body =
        tmdbId === 27205
          ? { mediaType: "movie", mediaId: tmdbId }
          : { mediaType: "tv", mediaId: tmdbId, seasons: [1, 2] };
      expect(validateRequestBody(spec, "POST", "/request", body)).toEqual([]);
      const created = await send("POST", "/request", { body, user: 2 });
      expect(created.status).toBe(201);
      expect(validateResponse(spec, "POST", "/request", created.status, created.body)).toEqual([]);
      const list = await send("GET", "/request?take=10&skip=0&filter=all&sort=added");
      expect(list.status).toBe(200);
      expect(validateResponse(spec, "GET", "/request", list.status, list.body)).toEqual([]);
    });
  });
}

describe.skipIf(!seerrSpecFile)("the client's request bodies match seerr-api.yml", () => {
  test("POST /request for a movie and for chosen seasons", async () => {
    const spec = await loadSpec(seerrSpecFile as string);
    const alice = createSeerrClient({ baseUrl: fake.url, apiKey: API_KEY }).as(2);
    fake.addMovie(seerrMovie({ id: 603, title: "The Matrix" }));
    await alice.createRequest({ mediaType: "movie", mediaId: 603 });
    await alice.createRequest({ mediaType: "tv", mediaId: 1396, seasons: [3], is4k: false });
    const posted = fake.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/request").slice(-2);
    expect(posted).toHaveLength(2);
    for (const r of posted) expect(validateRequestBody(spec, "POST", "/request", r.body)).toEqual([]);
  });
});

describe("fake Seerr behaviour", () => {
  test("rejects a missing or wrong API key with 401 {message}, but /status stays public", async () => {
    const res = await fetch(`${fake.url}/api/v1/user`, { headers: { "X-Api-Key": "wrong" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toContain("X-Api-Key");
    expect((await fetch(`${fake.url}/api/v1/status`)).status).toBe(200);
  });

  test("answers 400 when a search query uses + for a space, and matches %20", async () => {
    expect((await send("GET", "/search?query=the+matrix")).status).toBe(400);
    fake.addMovie(seerrMovie({ id: 604, title: "The Matrix Reloaded" }));
    const ok = await send("GET", "/search?query=the%20matrix%20reloaded");
    expect(ok.status).toBe(200);
    expect((ok.body as { results: { id: number }[] }).results.map((r) => r.id)).toEqual([604]);
  });

  test("POST /request: 409 duplicate, 403 without permission, 202 when no seasons are left", async () => {
    fake.addMovie(seerrMovie({ id: 680, title: "Pulp Fiction" }));
    fake.addUser(seerrUser({ id: 9, displayName: "Viewer", permissions: 0 }));
    expect((await send("POST", "/request", { body: { mediaType: "movie", mediaId: 680 }, user: 2 })).status).toBe(201);
    const dup = await send("POST", "/request", { body: { mediaType: "movie", mediaId: 680 }, user: 2 });
    expect(dup).toEqual({ status: 409, body: { message: "Request for this media already exists." } });
    const denied = await send("POST", "/request", { body: { mediaType: "movie", mediaId: 680, is4k: true }, user: 9 });
    expect(denied.status).toBe(403);
    await send("POST", "/request", { body: { mediaType: "tv", mediaId: 1396, seasons: "all" }, user: 1 });
    const none = await send("POST", "/request", { body: { mediaType: "tv", mediaId: 1396, seasons: "all" }, user: 1 });
    expect(none).toEqual({ status: 202, body: { message: "No seasons available to request" } });
  });

  test("a user without MANAGE_REQUESTS lists only their own requests; unknown X-Api-User gets 403", async () => {
    const mine = await send("GET", "/request?take=50", { user: 2 });
    const results = (mine.body as { results: { requestedBy: { id: number } }[] }).results;
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.requestedBy.id === 2)).toBe(true);
    expect((await send("GET", "/request", { user: 999 })).status).toBe(403);
  });
});
