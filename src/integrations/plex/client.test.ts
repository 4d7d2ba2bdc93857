import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type FakePlexServer,
  plexEpisode,
  plexMovie,
  plexSection,
  plexSession,
  startFakePlexServer,
  TINY_PNG,
} from "../../../test/fakes/plex-server";
import { IntegrationError } from "../http";
import { createPlexClient, type PlexClient } from "./client";

const MACHINE_ID = "f00dbabe0000111122223333444455556666777788";
const CLIENT_ID = "medianest-test-client";

const inception = plexMovie({ ratingKey: "101", title: "Inception", addedAt: 1_700_000_300 });
const arrival = plexMovie({
  ratingKey: "102",
  title: "Arrival",
  year: 2016,
  addedAt: 1_700_000_100,
  Guid: [{ id: "imdb://tt2543164" }, { id: "tmdb://329865" }],
});
const pilot = plexEpisode({
  ratingKey: "201",
  title: "Pilot",
  grandparentTitle: "Breaking Bad",
  addedAt: 1_700_000_200,
});

let fake: FakePlexServer;
let client: PlexClient;

beforeAll(() => {
  fake = startFakePlexServer({
    machineIdentifier: MACHINE_ID,
    ownerToken: "owner-token",
    userTokens: ["friend-token"],
    items: [inception, arrival, pilot],
    sessions: [
      plexSession(pilot, { sessionKey: "7", user: { id: "2", title: "friend" }, state: "paused", viewOffset: 120_000 }),
      plexSession(inception, {
        sessionKey: "8",
        product: "Plex for Android (TV)",
        playerTitle: "Living Room",
        transcode: { videoDecision: "transcode", audioDecision: "copy" },
      }),
      plexSession(arrival, { sessionKey: "9", transcode: { videoDecision: "copy", audioDecision: "copy" } }),
    ],
  });
  client = createPlexClient({
    baseUrl: `${fake.url}/`,
    token: "owner-token",
    clientIdentifier: CLIENT_ID,
    version: "0.1.0",
  });
});

afterAll(async () => {
  await fake.stop();
});

function lastRequest() {
  const req = fake.requests.at(-1);
  if (!req) throw new Error("plex client test: the fake received no request");
  return req;
}

function expectHeaders(headers: Record<string, string>) {
  expect(headers.accept).toBe("application/json");
  expect(headers["x-plex-token"]).toBe("owner-token");
  expect(headers["x-plex-client-identifier"]).toBe(CLIENT_ID);
  expect(headers["x-plex-product"]).toBe("MediaNest");
}

async function failure(call: Promise<unknown>): Promise<IntegrationError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

describe("getServerInfo", () => {
  test("reads the server's name, id and version with the token", async () => {
    expect(await client.getServerInfo()).toEqual({
      name: "Plex Server",
      machineIdentifier: MACHINE_ID,
      version: "1.41.3.9314-a0bfb8370",
    });
    expect(lastRequest().path).toBe("/");
    expectHeaders(lastRequest().headers);
  });

  test("a wrong token is refused", async () => {
    const stranger = createPlexClient({ baseUrl: fake.url, token: "nope", clientIdentifier: CLIENT_ID });
    expect((await failure(stranger.getServerInfo())).status).toBe(401);
  });
});

describe("getIdentity", () => {
  test("reads machineIdentifier, version and claimed", async () => {
    expect(await client.getIdentity()).toEqual({
      machineIdentifier: MACHINE_ID,
      version: "1.41.3.9314-a0bfb8370",
      claimed: true,
    });
    const req = lastRequest();
    expect(req.method).toBe("GET");
    expect(req.path).toBe("/identity");
  });

  test("works with a wrong token, like real PMS", async () => {
    const anonymous = createPlexClient({ baseUrl: fake.url, token: "wrong", clientIdentifier: CLIENT_ID });
    expect((await anonymous.getIdentity()).machineIdentifier).toBe(MACHINE_ID);
  });
});

describe("listSections", () => {
  test("maps sections and their folders", async () => {
    expect(await client.listSections()).toEqual([
      { key: "1", type: "movie", title: "Movies", locations: ["/data/movies"] },
      { key: "2", type: "show", title: "TV Shows", locations: ["/data/tv"] },
    ]);
    const req = lastRequest();
    expect(req.method).toBe("GET");
    expect(req.path).toBe("/library/sections");
    expectHeaders(req.headers);
  });

  test("an unknown section type becomes other", async () => {
    fake.setSections([plexSection({ key: "5", type: "podcast", title: "Pods", Location: [] })]);
    try {
      expect(await client.listSections()).toEqual([{ key: "5", type: "other", title: "Pods", locations: [] }]);
    } finally {
      fake.setSections([
        plexSection({ key: "1", type: "movie", title: "Movies" }),
        plexSection({ key: "2", type: "show", title: "TV Shows" }),
      ]);
    }
  });

  test("a bad token is unauthorized", async () => {
    const bad = createPlexClient({ baseUrl: fake.url, token: "wrong", clientIdentifier: CLIENT_ID });
    const err = await failure(bad.listSections());
    expect(err.kind).toBe("unauthorized");
    expect(err.service).toBe("plex");
    expect(err.message).toBe("Plex rejected the credentials (status 401)");
  });
});

describe("listRecentlyAdded", () => {
  test("returns the newest items first, with external ids, and asks for a page", async () => {
    const items = await client.listRecentlyAdded(2);
    const req = lastRequest();
    expect(req.path).toBe("/library/recentlyAdded");
    expect(req.query).toEqual({ includeGuids: "1", "X-Plex-Container-Start": "0", "X-Plex-Container-Size": "2" });
    expectHeaders(req.headers);

    expect(items.map((i) => i.title)).toEqual(["Inception", "Pilot"]);
    expect(items[0]).toEqual({
      ratingKey: "101",
      key: "/library/metadata/101",
      guid: "plex://movie/5d7768ba96b655001fdc0101",
      type: "movie",
      title: "Inception",
      year: 2010,
      summary: "A thief who steals corporate secrets through dream-sharing.",
      thumb: "/library/metadata/101/thumb/1700000000",
      art: "/library/metadata/101/art/1700000000",
      addedAt: new Date(1_700_000_300 * 1000),
      durationMs: 8_880_000,
      parentTitle: null,
      grandparentTitle: null,
      index: null,
      parentIndex: null,
      sectionKey: "1",
      parentRatingKey: null,
      childCount: null,
      leafCount: null,
      genres: ["Action", "Science Fiction"],
      externalIds: { imdb: "tt1375666", tmdb: "27205", tvdb: "525" },
      files: ["/data/movies/Inception/Inception.mkv"],
    });
    expect(items[1]).toMatchObject({ type: "episode", grandparentTitle: "Breaking Bad", index: 1, parentIndex: 1 });
  });

  test("Plex answering HTML is bad_response", async () => {
    fake.failNext("html");
    const err = await failure(client.listRecentlyAdded(5));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toBe("Plex answered something that is not JSON");
  });

  test("an item without a title is bad_response naming the path", async () => {
    fake.setItems([{ ...inception, title: undefined }]);
    try {
      const err = await failure(client.listRecentlyAdded(5));
      expect(err.kind).toBe("bad_response");
      expect(err.message).toStartWith("Plex answered an unexpected shape (at MediaContainer.Metadata[0].title:");
    } finally {
      fake.setItems([inception, arrival, pilot]);
    }
  });

  test("Plex not answering in time is a timeout", async () => {
    const quick = createPlexClient({
      baseUrl: fake.url,
      token: "owner-token",
      clientIdentifier: CLIENT_ID,
      timeoutMs: 100,
    });
    fake.failNext("timeout");
    const err = await failure(quick.listRecentlyAdded(5));
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("Plex did not answer (timeout after 0.1 s)");
  });
});

describe("listSectionItems", () => {
  test("lists one section a page at a time", async () => {
    const items = await client.listSectionItems("1", { start: 1, size: 10 });
    expect(items.map((i) => i.ratingKey)).toEqual(["102"]);
    expect(items[0]?.externalIds).toEqual({ imdb: "tt2543164", tmdb: "329865" });
    const req = lastRequest();
    expect(req.path).toBe("/library/sections/1/all");
    expect(req.query).toEqual({ includeGuids: "1", "X-Plex-Container-Start": "1", "X-Plex-Container-Size": "10" });
  });
});

describe("listSessions", () => {
  test("maps user, player, transcode decision, item and progress", async () => {
    const sessions = await client.listSessions();
    const req = lastRequest();
    expect(req.path).toBe("/status/sessions");
    expectHeaders(req.headers);

    expect(sessions).toHaveLength(3);
    expect(sessions[0]).toEqual({
      sessionKey: "7",
      user: { id: "2", title: "friend", thumb: "https://plex.tv/users/2/avatar?c=1" },
      player: { state: "paused", product: "Plex Web", title: "Chrome", platform: "Chrome", local: true },
      transcoding: false,
      location: "lan",
      item: {
        ratingKey: "201",
        type: "episode",
        title: "Pilot",
        grandparentTitle: "Breaking Bad",
        parentTitle: "Season 1",
        thumb: "/library/metadata/201/thumb/1700000000",
      },
      progress: { viewOffsetMs: 120_000, durationMs: 2_820_000 },
    });
    expect(sessions[1]?.transcoding).toBe(true);
    expect(sessions[1]?.player).toMatchObject({
      state: "playing",
      product: "Plex for Android (TV)",
      title: "Living Room",
    });
    // Direct stream has a TranscodeSession too, but nothing is converted.
    expect(sessions[2]?.transcoding).toBe(false);
  });

  test("an unknown player state is unknown, not a crash", async () => {
    fake.setSessions([{ ...plexSession(inception), Player: { state: "teleporting" } }]);
    try {
      expect((await client.listSessions())[0]?.player.state).toBe("unknown");
    } finally {
      fake.setSessions([]);
    }
  });

  test("no playback is an empty list (PMS leaves Metadata out)", async () => {
    fake.setSessions([]);
    expect(await client.listSessions()).toEqual([]);
  });

  test("a shared user's token is unauthorized", async () => {
    const friend = createPlexClient({ baseUrl: fake.url, token: "friend-token", clientIdentifier: CLIENT_ID });
    expect((await failure(friend.listSessions())).kind).toBe("unauthorized");
  });
});

describe("refreshSection", () => {
  test("rescans one folder, the path URL-encoded", async () => {
    await client.refreshSection("2", "/data/tv/Breaking Bad & Co");
    const req = lastRequest();
    expect(req.method).toBe("GET");
    expect(req.path).toBe("/library/sections/2/refresh");
    expect(req.query).toEqual({ path: "/data/tv/Breaking Bad & Co" });
    expectHeaders(req.headers);
    expect(fake.refreshes.at(-1)).toEqual({ sectionKey: "2", path: "/data/tv/Breaking Bad & Co" });
  });

  test("rescans a whole section", async () => {
    await client.refreshSection("1");
    expect(lastRequest().query).toEqual({});
    expect(fake.refreshes.at(-1)).toEqual({ sectionKey: "1", path: undefined });
  });

  test("an unknown section is refused with 404", async () => {
    const err = await failure(client.refreshSection("99"));
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(404);
  });
});

describe("getMetadata", () => {
  test("reads one item with its external ids", async () => {
    const item = await client.getMetadata("201");
    expect(lastRequest().path).toBe("/library/metadata/201");
    expect(item?.title).toBe("Pilot");
    expect(item?.externalIds).toEqual({ imdb: "tt0959621", tmdb: "62085", tvdb: "349232" });
  });

  test("an unknown item is undefined", async () => {
    expect(await client.getMetadata("424242")).toBeUndefined();
  });

  test("a server error stays an error", async () => {
    fake.failNext(500);
    expect((await failure(client.getMetadata("201"))).kind).toBe("refused");
  });
});

describe("fetchImage", () => {
  test("returns the image response, sent with the token", async () => {
    const res = await client.fetchImage("/library/metadata/101/thumb/1700000000");
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(TINY_PNG);
    const req = lastRequest();
    expect(req.path).toBe("/library/metadata/101/thumb/1700000000");
    expect(req.headers["x-plex-token"]).toBe("owner-token");
  });

  test("asks the server to resize", async () => {
    const res = await client.fetchImage("/library/metadata/101/thumb/1700000000", { width: 240, height: 360 });
    await res.arrayBuffer();
    const req = lastRequest();
    expect(req.path).toBe("/photo/:/transcode");
    expect(req.query).toEqual({
      url: "/library/metadata/101/thumb/1700000000",
      width: "240",
      height: "360",
      minSize: "1",
      upscale: "1",
    });
  });

  test("refuses paths that would leak the token or reach non-image endpoints", async () => {
    const before = fake.requests.length;
    for (const path of [
      "https://evil.example/x.png",
      "//evil.example/x.png",
      "/:/prefs",
      "/library/metadata/1/../../../:/prefs",
      "/library/%2e%2e/accounts",
    ]) {
      await expect(client.fetchImage(path)).rejects.toThrow("plex: refusing to fetch an image");
    }
    expect(fake.requests.length).toBe(before);
  });

  test("a non-image answer is bad_response", async () => {
    const err = await failure(client.fetchImage("/library/sections"));
    expect(err.kind).toBe("bad_response");
  });
});
