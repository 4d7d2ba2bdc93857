import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type FakeSeerr,
  SEERR_PERMISSIONS,
  seerrMovie,
  seerrShow,
  loadSeerrSpec,
  seerrUser,
  startFakeSeerr,
} from "../../../test/fakes/seerr";
import { IntegrationError, type IntegrationErrorKind } from "../http";
import { createSeerrClient, type SeerrClient } from "./client";

const API_KEY = "seerr-api-key-0123456789";

let fake: FakeSeerr;
let client: SeerrClient;

beforeAll(() => {
  fake = startFakeSeerr({
    apiKey: API_KEY,
    version: "2.7.3",
    commitTag: "v2.7.3",
    updateAvailable: true,
    commitsBehind: 4,
    users: [
      seerrUser({ id: 1, displayName: "owner", plexId: 5001, permissions: SEERR_PERMISSIONS.ADMIN }),
      seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: SEERR_PERMISSIONS.REQUEST }),
      seerrUser({
        id: 3,
        displayName: null,
        username: "bob",
        plexUsername: null,
        plexId: null,
        email: "bob@example.com",
      }),
      seerrUser({ id: 4, displayName: "Viewer", permissions: 0 }),
    ],
    movies: [
      seerrMovie({ id: 27205, title: "Inception" }),
      seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
    ],
    shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 5 })],
  });
  // A trailing slash and /api/v1 are both accepted in the base URL.
  client = createSeerrClient({ baseUrl: `${fake.url}/api/v1/`, apiKey: API_KEY });
});

afterAll(async () => {
  await fake.stop();
});

function lastRequest() {
  const req = fake.requests.at(-1);
  if (!req) throw new Error("seerr client test: the fake received no request");
  return req;
}

async function failure(call: Promise<unknown>, kind: IntegrationErrorKind): Promise<IntegrationError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  expect((err as IntegrationError).kind).toBe(kind);
  expect((err as IntegrationError).service).toBe("seerr");
  return err as IntegrationError;
}

describe("getStatus", () => {
  test("reads version, commit, update state and restart flag", async () => {
    expect(await client.getStatus()).toEqual({
      version: "2.7.3",
      commitTag: "v2.7.3",
      updateAvailable: true,
      commitsBehind: 4,
      restartRequired: false,
    });
    const req = lastRequest();
    expect(req.method).toBe("GET");
    expect(req.path).toBe("/api/v1/status");
    expect(req.headers["x-api-key"]).toBe(API_KEY);
    expect(req.headers.accept).toBe("application/json");
    expect(req.headers["x-api-user"]).toBeUndefined();
  });

  test("fills fields an older server leaves out", async () => {
    const minimal = createSeerrClient({
      baseUrl: "http://seerr.invalid",
      apiKey: "k",
      fetch: (async () => Response.json({ version: "1.33.2" })) as unknown as typeof fetch,
    });
    expect(await minimal.getStatus()).toEqual({
      version: "1.33.2",
      commitTag: null,
      updateAvailable: false,
      commitsBehind: 0,
      restartRequired: false,
    });
  });
});

describe("listUsers", () => {
  test("pages with take/skip and maps plexId, email and a display name", async () => {
    const page = await client.listUsers({ take: 3, skip: 0 });
    expect(lastRequest().rawQuery).toBe("take=3&skip=0");
    expect(page.total).toBe(4);
    expect(page.pages).toBe(2);
    expect(page.results).toEqual([
      { id: 1, plexId: 5001, email: "owner@example.com", displayName: "owner", permissions: SEERR_PERMISSIONS.ADMIN },
      { id: 2, plexId: 5002, email: "alice@example.com", displayName: "Alice", permissions: SEERR_PERMISSIONS.REQUEST },
      { id: 3, plexId: null, email: "bob@example.com", displayName: "bob", permissions: SEERR_PERMISSIONS.REQUEST },
    ]);
    const rest = await client.listUsers({ take: 3, skip: 3 });
    expect(rest.page).toBe(2);
    expect(rest.results.map((u) => u.id)).toEqual([4]);
  });
});

describe("search", () => {
  test("encodes the query with %20 (never +) and maps movie and tv hits", async () => {
    fake.setAvailability("movie", 603, 5);
    const result = await client.search("the matrix & co+", { page: 1 });
    expect(lastRequest().rawQuery).toBe("query=the%20matrix%20%26%20co%2B&page=1");
    expect(lastRequest().query.query).toBe("the matrix & co+");
    expect(result.totalResults).toBe(0);

    const hits = await client.search("the matrix");
    expect(lastRequest().rawQuery).toBe("query=the%20matrix&page=1");
    expect(hits.results).toEqual([
      {
        mediaType: "movie",
        id: 603,
        title: "The Matrix",
        year: 1999,
        overview: "A thief who steals corporate secrets through dream-sharing.",
        posterPath: "/poster603.jpg",
        backdropPath: "/backdrop603.jpg",
        media: {
          tmdbId: 603,
          tvdbId: null,
          status: "available",
          status4k: "unknown",
          ratingKey: expect.stringMatching(/^\d+$/),
          ratingKey4k: null,
          seasons: [],
          requests: [],
        },
      },
    ]);
    const shows = await client.search("breaking");
    expect(shows.results[0]).toMatchObject({
      mediaType: "tv",
      id: 1396,
      title: "Breaking Bad",
      year: 2008,
      media: null,
    });
  });

  test("a raw + in the query is what the server refuses (the fake checks like Seerr does)", async () => {
    const res = await fetch(`${fake.url}/api/v1/search?query=the+matrix`, { headers: { "X-Api-Key": API_KEY } });
    expect(res.status).toBe(400);
  });
});

describe("details", () => {
  test("getMovie and getTv map details; unknown ids are undefined", async () => {
    expect(await client.getMovie(27205)).toMatchObject({
      tmdbId: 27205,
      title: "Inception",
      year: 2010,
      runtimeMinutes: 148,
      media: null,
    });
    expect(lastRequest().path).toBe("/api/v1/movie/27205");
    const show = await client.getTv(1396);
    expect(show).toMatchObject({ tmdbId: 1396, title: "Breaking Bad", numberOfSeasons: 5 });
    expect(show?.seasons.map((s) => s.seasonNumber)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await client.getMovie(999999)).toBeUndefined();
    expect(await client.getTv(999999)).toBeUndefined();
    expect(() => client.getMovie(-1)).toThrow("seerr: invalid TMDB id -1");
  });
});

describe("requests", () => {
  test("createRequest acts as the user (X-Api-User) and reports each refusal as an outcome", async () => {
    const alice = client.as(2);
    const created = await alice.createRequest({ mediaType: "movie", mediaId: 27205 });
    expect(created.kind).toBe("created");
    const req = lastRequest();
    expect(req.headers["x-api-user"]).toBe("2");
    expect(req.body).toEqual({ mediaType: "movie", mediaId: 27205 });
    if (created.kind !== "created") throw new Error("unreachable");
    expect(created.request).toMatchObject({
      status: "pending",
      mediaType: "movie",
      tmdbId: 27205,
      is4k: false,
      requestedBy: { id: 2, plexId: 5002, displayName: "Alice" },
    });
    expect(created.request.media?.status).toBe("pending");

    expect(await alice.createRequest({ mediaType: "movie", mediaId: 27205 })).toEqual({
      kind: "already_requested",
      message: "Request for this media already exists.",
    });
    expect(await client.as(4).createRequest({ mediaType: "movie", mediaId: 27205, is4k: true })).toEqual({
      kind: "not_allowed",
      message: "You do not have permission to make 4K movie requests.",
    });

    const tv = await client.createRequest({ mediaType: "tv", mediaId: 1396, seasons: "all" });
    expect(tv.kind === "created" && tv.request).toMatchObject({ status: "approved", seasons: [1, 2, 3, 4, 5] });
    expect(await client.createRequest({ mediaType: "tv", mediaId: 1396, seasons: [2] })).toEqual({
      kind: "nothing_to_request",
      message: "No seasons available to request",
    });
  });

  test("listRequests pages and filters; a user sees only their own", async () => {
    const all = await client.listRequests({ take: 10, filter: "all", sort: "added" });
    expect(lastRequest().rawQuery).toBe("take=10&skip=0&filter=all&sort=added");
    expect(all.total).toBe(2);
    expect(all.results.map((r) => r.mediaType)).toEqual(["tv", "movie"]);
    const own = await client.as(2).listRequests({ requestedBy: 2 });
    expect(own.results.map((r) => r.tmdbId)).toEqual([27205]);
    expect(own.results[0]?.createdAt).toBeInstanceOf(Date);
  });
});

describe("failures", () => {
  test("a wrong API key: Seerr rejected the API key (status 401)", async () => {
    const wrong = createSeerrClient({ baseUrl: fake.url, apiKey: "nope" });
    const err = await failure(wrong.listUsers(), "unauthorized");
    expect(err.message).toBe("Seerr rejected the API key (status 401)");
    expect(err.status).toBe(401);
  });

  test("an unknown acting user (403) is told apart from a bad key", async () => {
    const err = await failure(client.as(999).listRequests(), "unauthorized");
    expect(err.message).toBe("Seerr refused: Seerr user 999 lacks the permission (status 403)");
  });

  test("an HTML page instead of JSON", async () => {
    fake.failNext("html");
    const err = await failure(client.getStatus(), "bad_response");
    expect(err.message).toBe("Seerr answered something that is not JSON");
    expect(err.body).toContain("<!DOCTYPE html>");
  });

  test("truncated JSON", async () => {
    fake.failNext("garbage");
    expect((await failure(client.getStatus(), "bad_response")).message).toBe(
      "Seerr answered something that is not JSON",
    );
  });

  test("JSON of the wrong shape names the field", async () => {
    const odd = createSeerrClient({
      baseUrl: "http://seerr.invalid",
      apiKey: "k",
      fetch: (async () => Response.json({ version: 7 })) as unknown as typeof fetch,
    });
    expect((await failure(odd.getStatus(), "bad_response")).message).toBe(
      "Seerr answered an unexpected shape (at version: Invalid input: expected string, received number)",
    );
  });

  test("a server error status carries Seerr's own words", async () => {
    fake.failNext(500);
    const err = await failure(client.getStatus(), "refused");
    expect(err.message).toBe("Seerr refused the request (status 500): Fake Seerr fault 500");
    expect(err.status).toBe(500);
  });

  test("no answer within the timeout", async () => {
    const slow = createSeerrClient({ baseUrl: fake.url, apiKey: API_KEY, timeoutMs: 150 });
    fake.failNext("timeout");
    const started = performance.now();
    const err = await failure(slow.getStatus(), "timeout");
    expect(err.message).toBe("Seerr did not answer (timeout after 0.2 s)");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("connection refused", async () => {
    const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const url = `http://127.0.0.1:${gone.port}`;
    await gone.stop(true);
    const err = await failure(createSeerrClient({ baseUrl: url, apiKey: API_KEY }).getStatus(), "network");
    expect(err.message).toBe("Seerr could not be reached (connection refused)");
  });

  test("errors are counted by the observer", async () => {
    const seen: string[] = [];
    const observed = createSeerrClient({
      baseUrl: fake.url,
      apiKey: "bad",
      observer: { onIntegrationError: (s, k) => seen.push(`${s}:${k}`) },
    });
    await failure(observed.listUsers(), "unauthorized");
    expect(seen).toEqual(["seerr:unauthorized"]);
  });
});

describe("unknown enum numbers", () => {
  test("read as unknown instead of crashing", async () => {
    const body = {
      pageInfo: { pages: 1, pageSize: 20, results: 1, page: 1 },
      results: [
        {
          id: 77,
          status: 9,
          type: "music",
          media: { id: 1, tmdbId: 5, mediaType: "movie", status: 42, status4k: 6 },
          requestedBy: { id: 1, email: "a@b.c", plexId: 1, displayName: "owner" },
          createdAt: "not a date",
        },
      ],
    };
    const odd = createSeerrClient({
      baseUrl: "http://seerr.invalid",
      apiKey: "k",
      fetch: (async () => Response.json(body)) as unknown as typeof fetch,
    });
    const page = await odd.listRequests();
    expect(page.results[0]).toMatchObject({
      id: 77,
      status: "unknown",
      mediaType: "movie",
      createdAt: null,
      media: { status: "unknown", status4k: "unavailable" },
    });

    fake.setAvailability("movie", 27205, 99, 7);
    expect((await client.getMovie(27205))?.media).toEqual({
      tmdbId: 27205,
      tvdbId: null,
      status: "unknown",
      status4k: "deleted",
      ratingKey: null,
      ratingKey4k: null,
      seasons: [],
      // Details carry the title's requests (Alice asked for it above).
      requests: [{ id: 1, status: "pending", is4k: false, requestedById: 2, seasons: [] }],
    });
    const hits = await client.search("inception");
    expect(hits.results[0]?.media?.status).toBe("unknown");
  });

  test("unknown search media types read as other", async () => {
    const body = {
      page: 1,
      totalPages: 1,
      totalResults: 2,
      results: [
        { id: 1, mediaType: "person", name: "Keanu Reeves" },
        { id: 2, mediaType: "podcast", name: "?" },
      ],
    };
    const odd = createSeerrClient({
      baseUrl: "http://seerr.invalid",
      apiKey: "k",
      fetch: (async () => Response.json(body)) as unknown as typeof fetch,
    });
    expect((await odd.search("k")).results.map((r) => [r.mediaType, r.title])).toEqual([
      ["person", "Keanu Reeves"],
      ["other", "?"],
    ]);
  });
});

describe("discover, settings, request changes and user import (answers held to seerr-api.yml)", () => {
  let checked: FakeSeerr;
  let seerr: SeerrClient;

  beforeAll(async () => {
    const spec = await loadSeerrSpec();
    checked = startFakeSeerr({
      apiKey: API_KEY,
      ...(spec ? { spec } : {}),
      users: [
        seerrUser({ id: 1, displayName: "owner", plexId: 5001, permissions: SEERR_PERMISSIONS.ADMIN }),
        seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: SEERR_PERMISSIONS.REQUEST }),
      ],
      movies: [
        seerrMovie({ id: 603, title: "The Matrix", popularity: 50 }),
        seerrMovie({ id: 1_100_001, title: "Tomorrow's Film", releaseDate: "2026-06-01", popularity: 10 }),
      ],
      shows: [seerrShow({ id: 1396, name: "Breaking Bad", popularity: 90 })],
      plexAccounts: [{ plexId: 7007, username: "carol", email: "carol@example.com" }],
      fourK: { movie: true, tv: false },
    });
    seerr = createSeerrClient({ baseUrl: checked.url, apiKey: API_KEY });
  });
  afterAll(async () => {
    expect(checked.specErrors).toEqual([]);
    await checked.stop();
  });

  test("discover lists map to search pages; trending keeps the person Seerr sends as 'person'", async () => {
    const trending = await seerr.discover("trending");
    expect(checked.requests.at(-1)?.path).toBe("/api/v1/discover/trending");
    expect(trending.results.map((r) => [r.mediaType, r.id])).toEqual([
      ["person", 6193],
      ["tv", 1396],
      ["movie", 603],
      ["movie", 1_100_001],
    ]);
    expect(trending.results[1]).toMatchObject({ title: "Breaking Bad", year: 2008, backdropPath: "/backdrop1396.jpg" });
    const upcoming = await seerr.discover("upcoming-movies", { page: 1 });
    expect(checked.requests.at(-1)?.rawQuery).toBe("page=1");
    expect(upcoming.results.map((r) => r.id)).toEqual([1_100_001]);
    expect((await seerr.discover("tv")).results.map((r) => r.id)).toEqual([1396]);
    expect((await seerr.discover("movies")).results.map((r) => r.id)).toEqual([603, 1_100_001]);
    expect((await seerr.discover("upcoming-tv")).results).toEqual([]);
  });

  test("public settings say which 4K servers exist", async () => {
    expect(await seerr.getPublicSettings()).toEqual({
      movie4kEnabled: true,
      series4kEnabled: false,
      partialRequestsEnabled: true,
    });
  });

  test("details carry genres, cast, backdrop, season air dates and the title's requests", async () => {
    const alice = seerr.as(2);
    const made = await alice.createRequest({ mediaType: "tv", mediaId: 1396, seasons: [2] });
    expect(made.kind).toBe("created");
    checked.setAvailability("tv", 1396, 4, undefined, { 1: 5 });
    const tv = await seerr.getTv(1396);
    expect(tv).toMatchObject({
      backdropPath: "/backdrop1396.jpg",
      genres: ["Drama"],
      runtimeMinutes: 45,
      seasons: expect.arrayContaining([{ seasonNumber: 1, episodeCount: 10, name: "Season 1", airDate: "2008-01-20" }]),
    });
    expect(tv?.media?.seasons).toEqual([{ seasonNumber: 1, status: "available", status4k: "unknown" }]);
    expect(tv?.media?.requests).toEqual([
      { id: expect.any(Number), status: "pending", is4k: false, requestedById: 2, seasons: [2] },
    ]);
    expect(tv?.media?.ratingKey).toMatch(/^\d+$/);
    const movie = await seerr.getMovie(603);
    expect(movie).toMatchObject({ genres: ["Action"], cast: [{ name: "Leonardo DiCaprio", character: "Cobb" }] });
  });

  test("approve, decline, read and delete a request; a gone request reads as undefined / false", async () => {
    const made = await seerr.as(2).createRequest({ mediaType: "movie", mediaId: 603 });
    if (made.kind !== "created") throw new Error("expected a request");
    const id = made.request.id;
    expect((await seerr.setRequestStatus(id, "approve"))?.status).toBe("approved");
    expect(checked.requests.at(-1)).toMatchObject({ method: "POST", path: `/api/v1/request/${id}/approve` });
    expect((await seerr.getRequest(id))?.status).toBe("approved");
    expect((await seerr.setRequestStatus(id, "decline"))?.status).toBe("declined");
    expect(await seerr.deleteRequest(id)).toBe(true);
    expect(checked.requests.at(-1)).toMatchObject({ method: "DELETE", path: `/api/v1/request/${id}` });
    expect(await seerr.getRequest(id)).toBeUndefined();
    expect(await seerr.deleteRequest(id)).toBe(false);
    expect(await seerr.setRequestStatus(id, "approve")).toBeUndefined();
  });

  test("a member may not approve: the refusal names the acting user", async () => {
    const err = await failure(seerr.as(2).setRequestStatus(1, "approve"), "unauthorized");
    expect(err.message).toContain("Seerr user 2 lacks the permission");
  });

  test("import-from-plex sends the Plex ids as strings and returns the new users", async () => {
    const created = await seerr.importFromPlex([7007]);
    expect(checked.requests.at(-1)?.body).toEqual({ plexIds: ["7007"] });
    expect(created).toEqual([
      expect.objectContaining({ plexId: 7007, email: "carol@example.com", displayName: "carol" }),
    ]);
    expect(await seerr.importFromPlex([7007])).toEqual([]);
  });
});
