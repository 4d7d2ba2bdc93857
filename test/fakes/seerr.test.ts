import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSeerrClient } from "../../src/integrations/seerr/client";
import { findSpec, type OpenApiSpec, validateRequestBody, validateResponse } from "./openapi";
import {
  type FakeSeerr,
  loadSeerrSpec,
  SEERR_PERMISSIONS,
  seerrMovie,
  seerrShow,
  seerrUser,
  startFakeSeerr,
} from "./seerr";

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

for (const [name, file] of [
  ["seerr-api.yml", seerrSpecFile],
  ["overseerr-api.yml", overseerrSpecFile],
] as const) {
  describe.skipIf(!file)(`fake Seerr matches ${name}`, () => {
    let spec: OpenApiSpec;

    beforeAll(async () => {
      // The known places where the real server differs from the documents are applied (SPEC_DEVIATIONS in seerr.ts).
      spec = (await loadSeerrSpec(name))!;
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
    const spec = (await loadSeerrSpec("seerr-api.yml"))!;
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

describe.skipIf(!seerrSpecFile)("a fake given the spec holds every answer and body to it", () => {
  test("drift in an answer and in a received body is recorded in specErrors", async () => {
    const spec = (await loadSeerrSpec("seerr-api.yml"))!;
    const strict = startFakeSeerr({ apiKey: API_KEY, spec, movies: [seerrMovie({ id: 11, title: "Star Wars" })] });
    try {
      const headers = { "X-Api-Key": API_KEY, "Content-Type": "application/json" };
      await fetch(`${strict.url}/api/v1/movie/11`, { headers });
      await fetch(`${strict.url}/api/v1/discover/trending?page=1`, { headers });
      expect(strict.specErrors).toEqual([]);
      strict.addMovie(seerrMovie({ id: 12, title: "Broken", runtime: "long" }));
      await fetch(`${strict.url}/api/v1/movie/12`, { headers });
      await fetch(`${strict.url}/api/v1/request`, {
        method: "POST",
        headers,
        body: JSON.stringify({ mediaType: "song", mediaId: 11 }),
      });
      expect(strict.specErrors).toEqual([
        "GET /movie/{movieId} 200: /runtime must be number",
        'POST /request request: /mediaType must be equal to one of the allowed values ["movie","tv"]',
      ]);
    } finally {
      await strict.stop();
    }
  });

  test("the webhook body has the default template's shape: every value a string, absent blocks null", async () => {
    const hook = startFakeSeerr({
      apiKey: API_KEY,
      movies: [seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" })],
    });
    try {
      const id = hook.addRequest({ type: "movie", tmdbId: 603, userId: 1 });
      const body = hook.webhookPayload("MEDIA_PENDING", id);
      expect(body).toMatchObject({
        notification_type: "MEDIA_PENDING",
        event: "New Movie Request",
        subject: "The Matrix (1999)",
        media: { media_type: "movie", tmdbId: "603", tvdbId: "", status: "PENDING", status4k: "UNKNOWN" },
        request: { request_id: String(id), requestedBy_email: "owner@example.com", requestedBy_username: "owner" },
        issue: null,
        comment: null,
        extra: [],
      });
      for (const block of [body.media, body.request] as Record<string, unknown>[])
        for (const v of Object.values(block)) expect(typeof v).toBe("string");
      expect(hook.webhookPayload("TEST_NOTIFICATION")).toEqual({
        notification_type: "TEST_NOTIFICATION",
        event: "",
        subject: "Test Notification",
        message: "Check check, 1, 2, 3. Are we coming in clear?",
        image: "",
        media: null,
        request: null,
        issue: null,
        comment: null,
        extra: [],
      });
    } finally {
      await hook.stop();
    }
  });
});
