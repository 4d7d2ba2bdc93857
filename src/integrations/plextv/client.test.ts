import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakePlexTv, startFakePlexTv } from "../../../test/fakes/plex-tv";
import { IntegrationError } from "../http";
import { createPlexTvClient, findServerAccess, type PlexTvClient } from "./client";

const CLIENT_ID = "6f1f5a9e-2d0c-4a43-9d2b-8f0f7c1e0a11";
const MACHINE_ID = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0";

let fake: FakePlexTv;
let client: PlexTvClient;

beforeAll(() => {
  fake = startFakePlexTv();
  client = createPlexTvClient({ baseUrl: fake.url, clientIdentifier: CLIENT_ID, version: "0.1.0", timeoutMs: 2000 });
  fake.addUser({
    token: "owner-token",
    id: 1001,
    uuid: "owneruuid",
    username: "owner",
    title: "The Owner",
    email: "owner@example.com",
    thumb: "https://plex.tv/users/owneruuid/avatar",
    resources: [
      {
        clientIdentifier: MACHINE_ID,
        name: "Home Server",
        owned: true,
        accessToken: "owner-server-token",
        connections: [
          { uri: "http://192.168.1.10:32400", local: true },
          { uri: "https://203-0-113-7.abc.plex.direct:32400", local: false },
        ],
      },
      { clientIdentifier: "browser-1", provides: "client,player,pubsub-player", accessToken: null },
    ],
  });
  fake.addUser({
    token: "friend-token",
    id: 2002,
    username: "friend",
    email: null,
    resources: [
      { clientIdentifier: "someone-elses-server", owned: false },
      { clientIdentifier: MACHINE_ID, owned: false, accessToken: "friend-server-token" },
    ],
  });
  fake.addUser({ token: "stranger-token", id: 3003, username: "stranger", resources: [] });
});

afterAll(async () => {
  await fake.stop();
});

function expectPlexHeaders(headers: Record<string, string>, token?: string) {
  expect(headers.accept).toBe("application/json");
  expect(headers["x-plex-client-identifier"]).toBe(CLIENT_ID);
  expect(headers["x-plex-product"]).toBe("MediaNest");
  expect(headers["x-plex-version"]).toBe("0.1.0");
  expect(headers["x-plex-token"]).toBe(token as string);
}

describe("PIN flow", () => {
  test("create, poll pending, approve, poll gets the token", async () => {
    const before = Date.now();
    const pin = await client.createPin();
    const created = fake.requests.at(-1);
    expect(created?.method).toBe("POST");
    expect(created?.path).toBe("/api/v2/pins");
    expect(created?.query).toEqual({ strong: "true" });
    expectPlexHeaders(created?.headers ?? {});
    expect(pin.code).toMatch(/^[a-z0-9]{25}$/);
    expect(pin.expiresAt.getTime()).toBeGreaterThan(before + 800_000);

    const pending = await client.getPin(pin.id);
    expect(pending).toEqual({ id: pin.id, code: pin.code, authToken: null, expired: false });
    const polled = fake.requests.at(-1);
    expect(polled?.method).toBe("GET");
    expect(polled?.path).toBe(`/api/v2/pins/${pin.id}`);
    expectPlexHeaders(polled?.headers ?? {});

    fake.approvePin(pin.id, "owner-token");
    const approved = await client.getPin(pin.id);
    expect(approved.authToken).toBe("owner-token");
    expect(approved.expired).toBe(false);
  });

  test("an expired PIN is expired, not an error", async () => {
    const pin = await client.createPin();
    fake.expirePin(pin.id);
    expect(await client.getPin(pin.id)).toEqual({ id: pin.id, code: "", authToken: null, expired: true });
  });

  test("an unknown PIN is expired too", async () => {
    expect((await client.getPin(1)).expired).toBe(true);
  });

  test("a 404 without plex.tv's code 1020 stays an error", async () => {
    const pin = await client.createPin();
    fake.failNext(404);
    const err = await client.getPin(pin.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrationError);
    expect((err as IntegrationError).status).toBe(404);
  });

  test("a PIN expiring on its own is reported expired", async () => {
    const shortLived = startFakePlexTv({ pinLifetimeSeconds: 0 });
    try {
      const c = createPlexTvClient({ baseUrl: shortLived.url, clientIdentifier: CLIENT_ID, version: "0.1.0" });
      const pin = await c.createPin();
      expect((await c.getPin(pin.id)).expired).toBe(true);
    } finally {
      await shortLived.stop();
    }
  });

  test("authUrl encodes every key and value", () => {
    const url = client.authUrl("abc123", "https://medianest.example/auth/plex/done?x=1&y=2");
    expect(url).toBe(
      "https://app.plex.tv/auth#?clientID=6f1f5a9e-2d0c-4a43-9d2b-8f0f7c1e0a11&code=abc123" +
        "&context%5Bdevice%5D%5Bproduct%5D=MediaNest" +
        "&forwardUrl=https%3A%2F%2Fmedianest.example%2Fauth%2Fplex%2Fdone%3Fx%3D1%26y%3D2",
    );
    const configured = createPlexTvClient({
      appAuthBaseUrl: "http://127.0.0.1:1/auth",
      clientIdentifier: "c i d",
      version: "1",
    });
    expect(configured.authUrl("x")).toBe(
      "http://127.0.0.1:1/auth#?clientID=c%20i%20d&code=x&context%5Bdevice%5D%5Bproduct%5D=MediaNest",
    );
  });

  test("plex.tv answering HTML while creating a PIN is bad_response", async () => {
    fake.failNext("html");
    const err = (await client.createPin().catch((e: unknown) => e)) as IntegrationError;
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err.kind).toBe("bad_response");
    expect(err.service).toBe("plextv");
    expect(err.message).toBe("plex.tv answered something that is not JSON");
  });

  test("plex.tv not answering in time is a timeout", async () => {
    const quick = createPlexTvClient({
      baseUrl: fake.url,
      clientIdentifier: CLIENT_ID,
      version: "0.1.0",
      timeoutMs: 100,
    });
    fake.failNext("timeout");
    const err = (await quick.createPin().catch((e: unknown) => e)) as IntegrationError;
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("plex.tv did not answer (timeout after 0.1 s)");
  });

  test("plex.tv failing is refused with the status", async () => {
    fake.failNext(503);
    const err = (await client.createPin().catch((e: unknown) => e)) as IntegrationError;
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(503);
  });
});

describe("getUser", () => {
  test("maps the account and sends the token", async () => {
    const user = await client.getUser("owner-token");
    expect(user).toEqual({
      plexId: 1001,
      uuid: "owneruuid",
      username: "owner",
      title: "The Owner",
      email: "owner@example.com",
      thumb: "https://plex.tv/users/owneruuid/avatar",
    });
    const req = fake.requests.at(-1);
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe("/api/v2/user");
    expectPlexHeaders(req?.headers ?? {}, "owner-token");
  });

  test("keeps a null email as null", async () => {
    expect((await client.getUser("friend-token")).email).toBeNull();
  });

  test("a bad token is unauthorized", async () => {
    const err = (await client.getUser("nope").catch((e: unknown) => e)) as IntegrationError;
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err.kind).toBe("unauthorized");
    expect(err.status).toBe(401);
    expect(err.body).toContain("User could not be authenticated");
  });
});

describe("getResources and findServerAccess", () => {
  test("the owner has access with owned: true and the server token", async () => {
    const resources = await client.getResources("owner-token");
    const req = fake.requests.at(-1);
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe("/api/v2/resources");
    expect(req?.query).toEqual({ includeHttps: "1", includeRelay: "1" });
    expectPlexHeaders(req?.headers ?? {}, "owner-token");

    expect(resources).toHaveLength(2);
    const browser = resources.find((r) => r.clientIdentifier === "browser-1");
    expect(browser?.provides).toEqual(["client", "player", "pubsub-player"]);
    expect(browser?.accessToken).toBeNull();

    const access = findServerAccess(resources, MACHINE_ID);
    expect(access).toEqual({
      name: "Home Server",
      clientIdentifier: MACHINE_ID,
      provides: ["server"],
      owned: true,
      accessToken: "owner-server-token",
      connections: [
        { uri: "http://192.168.1.10:32400", local: true, relay: false },
        { uri: "https://203-0-113-7.abc.plex.direct:32400", local: false, relay: false },
      ],
    });
  });

  test("a friend has access through a shared server", async () => {
    const access = findServerAccess(await client.getResources("friend-token"), MACHINE_ID);
    expect(access?.owned).toBe(false);
    expect(access?.accessToken).toBe("friend-server-token");
  });

  test("a stranger has no access", async () => {
    expect(findServerAccess(await client.getResources("stranger-token"), MACHINE_ID)).toBeUndefined();
  });

  test("a non-server device with our identifier does not count", () => {
    const resources = [
      { name: "x", clientIdentifier: MACHINE_ID, provides: ["client"], owned: true, accessToken: "t", connections: [] },
    ];
    expect(findServerAccess(resources, MACHINE_ID)).toBeUndefined();
  });

  test("a bad token is unauthorized", async () => {
    const err = (await client.getResources("nope").catch((e: unknown) => e)) as IntegrationError;
    expect(err.kind).toBe("unauthorized");
  });
});
