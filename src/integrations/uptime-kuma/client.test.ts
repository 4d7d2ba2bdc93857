import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { type FakeUptimeKuma, kumaTime, startFakeUptimeKuma } from "../../../test/fakes/uptime-kuma";
import { IntegrationError, type IntegrationErrorKind } from "../http";
import { createKumaClient, type KumaClient } from "./client";
import { parseKumaTime } from "./types";

const API_KEY = "uk1_secret-key";
const T0 = new Date("2026-11-22T01:28:27.636Z");

let fake: FakeUptimeKuma;
let client: KumaClient;
const errors: { service: string; kind: IntegrationErrorKind }[] = [];

beforeAll(() => {
  fake = startFakeUptimeKuma({
    slug: "home",
    title: "Home services",
    description: "Everything in the cupboard",
    apiKey: API_KEY,
    holdMs: 5_000,
    groups: [
      {
        id: 7,
        name: "Media",
        monitors: [
          { id: 1, name: "Plex" },
          { id: 2, name: "Seerr", type: "keyword" },
        ],
      },
      { id: 8, name: "Network", monitors: [{ id: 3, name: "Router", type: "ping" }] },
    ],
  });
  client = createKumaClient({
    baseUrl: `${fake.url}/`,
    apiKey: API_KEY,
    timeoutMs: 300,
    observer: { onIntegrationError: (service, kind) => errors.push({ service, kind }) },
  });
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  errors.length = 0;
  fake.setVersion("2");
  fake.setIncidents([]);
  fake.setMaintenance([]);
  fake.setBeats(1, [
    { status: 1, time: new Date(T0.getTime() - 60_000), ping: 10 },
    { status: 0, time: T0, ping: null },
  ]);
  fake.setBeats(2, [{ status: 2, time: T0, ping: 40 }]);
  fake.setBeats(3, [{ status: 3, time: T0, ping: null }]);
  fake.setUptime(1, { day: 0.5 });
  fake.setUptime(2, { day: 1 });
  fake.setUptime(3, {});
});

async function failure(call: Promise<unknown>): Promise<IntegrationError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

describe("the fake answers the shapes the specs README gives", () => {
  async function raw(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${fake.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  test("2.x status page: config, incidents[], publicGroupList with monitorList, maintenanceList", async () => {
    fake.setIncidents([{ title: "Disk full" }]);
    const { status, body } = await raw("/api/status-page/home");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["config", "incidents", "maintenanceList", "publicGroupList"]);
    expect(body.config).toMatchObject({ slug: "home", title: "Home services" });
    expect(body.config).toHaveProperty("description");
    expect(Array.isArray(body.incidents)).toBe(true);
    const groups = body.publicGroupList as Record<string, unknown>[];
    expect(Object.keys(groups[0] ?? {}).sort()).toEqual(["id", "monitorList", "name", "weight"]);
    expect((groups[0]?.monitorList as unknown[])[0]).toEqual({ id: 1, name: "Plex", sendUrl: 0, type: "http" });
  });

  test("1.23 status page: `incident` object or null instead of incidents[]", async () => {
    fake.setVersion("1.23");
    let { body } = await raw("/api/status-page/home");
    expect(body).not.toHaveProperty("incidents");
    expect(body.incident).toBeNull();
    fake.setIncidents([{ title: "Disk full", content: "Cleaning up" }]);
    ({ body } = await raw("/api/status-page/home"));
    expect(body.incident).toMatchObject({ title: "Disk full", content: "Cleaning up", style: "warning" });
  });

  test.each([["2" as const], ["1.23" as const]])(
    "Kuma %s heartbeats: by id with status/time/ping, msg blanked, time UTC without zone, only <id>_24 uptime",
    async (version) => {
      fake.setVersion(version);
      const { status, body } = await raw("/api/status-page/heartbeat/home");
      expect(status).toBe(200);
      expect(Object.keys(body).sort()).toEqual(["heartbeatList", "uptimeList"]);
      const list = (body.heartbeatList as Record<string, Record<string, unknown>[]>)["1"] ?? [];
      // As a real 2.5.3 answered: the monitor's message is hidden from the public, always "".
      expect(list[1]).toEqual({ status: 0, time: "2026-11-22 01:28:27.636", msg: "", ping: null });
      expect(list[0]?.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
      expect(body.uptimeList).toEqual({ "1_24": 0.5, "2_24": 1 });
    },
  );

  test("unknown slug: the page is 404 {status: fail, msg: Status Page Not Found}, its heartbeats 200 and empty", async () => {
    const { status, body } = await raw("/api/status-page/nope");
    expect(status).toBe(404);
    expect(body).toEqual({ status: "fail", msg: "Status Page Not Found" });
    for (const version of ["2", "1.23"] as const) {
      fake.setVersion(version);
      const hb = await raw("/api/status-page/heartbeat/nope");
      expect(hb).toEqual({ status: 200, body: { heartbeatList: {}, uptimeList: {} } });
    }
  });

  test("at most 100 beats per monitor, oldest first", async () => {
    fake.setBeats(
      1,
      Array.from({ length: 130 }, (_, i) => ({ status: 1, time: new Date(T0.getTime() - i * 60_000), ping: i })),
    );
    const { body } = await raw("/api/status-page/heartbeat/home");
    const list = (body.heartbeatList as Record<string, { ping: number }[]>)["1"] ?? [];
    expect(list.length).toBe(100);
    expect(list[0]?.ping).toBe(99);
    expect(list.at(-1)?.ping).toBe(0);
  });
});

describe("getStatusPage", () => {
  test("maps the 2.x shape: groups, monitors, incidents and maintenance", async () => {
    fake.setIncidents([
      { title: "Disk full", content: "Cleaning up", style: "danger", createdDate: T0 },
      { title: "Slow nights", content: "Backups run at 3" },
    ]);
    fake.setMaintenance([{ title: "NAS upgrade", description: "Down for an hour" }]);
    const page = await client.getStatusPage("home");
    expect(page).toEqual({
      title: "Home services",
      description: "Everything in the cupboard",
      groups: [
        {
          id: 7,
          name: "Media",
          monitors: [
            { id: 1, name: "Plex", type: "http" },
            { id: 2, name: "Seerr", type: "keyword" },
          ],
        },
        { id: 8, name: "Network", monitors: [{ id: 3, name: "Router", type: "ping" }] },
      ],
      incidents: [
        { title: "Disk full", content: "Cleaning up", style: "danger", createdDate: T0 },
        {
          title: "Slow nights",
          content: "Backups run at 3",
          style: "warning",
          createdDate: new Date("2026-01-01T00:00:00Z"),
        },
      ],
      maintenance: [{ title: "NAS upgrade", description: "Down for an hour" }],
    });
    const req = fake.requests.at(-1);
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe("/api/status-page/home");
  });

  test("accepts 1.23's single `incident` and its null", async () => {
    fake.setVersion("1.23");
    expect((await client.getStatusPage("home")).incidents).toEqual([]);
    fake.setIncidents([{ title: "Disk full", content: "Cleaning up", style: "danger", createdDate: T0 }]);
    expect((await client.getStatusPage("home")).incidents).toEqual([
      { title: "Disk full", content: "Cleaning up", style: "danger", createdDate: T0 },
    ]);
  });

  test("an unknown slug is a refusal that names the slug", async () => {
    const err = await failure(client.getStatusPage("nope"));
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(404);
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain("Status Page Not Found");
    expect(errors).toEqual([{ service: "kuma", kind: "refused" }]);
  });

  test("an HTML page is a bad response", async () => {
    fake.failNext("html");
    const err = await failure(client.getStatusPage("home"));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toBe("Uptime Kuma answered something that is not JSON");
  });

  test("truncated JSON is a bad response", async () => {
    fake.failNext("garbage");
    expect((await failure(client.getStatusPage("home"))).kind).toBe("bad_response");
  });

  test("no answer in time is a timeout", async () => {
    fake.failNext("timeout");
    const err = await failure(client.getStatusPage("home"));
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("Uptime Kuma did not answer (timeout after 0.3 s)");
    expect(errors).toEqual([{ service: "kuma", kind: "timeout" }]);
  });

  test("a 401 from a proxy in front is unauthorized; a 500 is refused", async () => {
    fake.failNext(401);
    expect((await failure(client.getStatusPage("home"))).kind).toBe("unauthorized");
    fake.failNext(500);
    const err = await failure(client.getStatusPage("home"));
    expect(err.kind).toBe("refused");
    expect(err.status).toBe(500);
  });
});

describe("getHeartbeats", () => {
  test("maps beats by monitor id, oldest first, with Kuma's uptime fractions", async () => {
    const hb = await client.getHeartbeats("home");
    expect([...hb.keys()].sort()).toEqual([1, 2, 3]);
    expect(hb.get(1)).toEqual({
      beats: [
        { status: "up", statusCode: 1, time: new Date(T0.getTime() - 60_000), msg: "", ping: 10 },
        { status: "down", statusCode: 0, time: T0, msg: "", ping: null },
      ],
      uptime24: 0.5,
    });
    expect(hb.get(2)?.beats.map((b) => b.status)).toEqual(["pending"]);
    expect(hb.get(3)?.beats.map((b) => b.status)).toEqual(["maintenance"]);
    expect(hb.get(3)?.uptime24).toBeNull();
    expect(fake.requests.at(-1)?.path).toBe("/api/status-page/heartbeat/home");
  });

  test("reads times without a zone marker as UTC", async () => {
    const hb = await client.getHeartbeats("home");
    expect(hb.get(1)?.beats[1]?.time.toISOString()).toBe("2026-11-22T01:28:27.636Z");
    expect(parseKumaTime("2026-11-22 01:28:27.636")?.toISOString()).toBe("2026-11-22T01:28:27.636Z");
    expect(parseKumaTime("2026-11-22 01:28:27")?.toISOString()).toBe("2026-11-22T01:28:27.000Z");
    expect(parseKumaTime("2026-11-22T01:28:27.636Z")?.toISOString()).toBe("2026-11-22T01:28:27.636Z");
    expect(parseKumaTime("2026-11-22T03:28:27+02:00")?.toISOString()).toBe("2026-11-22T01:28:27.000Z");
    expect(parseKumaTime("yesterday")).toBeUndefined();
  });

  test("unknown status numbers become unknown and keep the number", async () => {
    fake.setBeats(2, [{ status: 9, time: T0 }]);
    const beat = (await client.getHeartbeats("home")).get(2)?.beats[0];
    expect(beat?.status).toBe("unknown");
    expect(beat?.statusCode).toBe(9);
  });

  test("an unreadable time is a bad response naming where", async () => {
    const res = await fetch(`${fake.url}/api/status-page/heartbeat/home`);
    const body = (await res.json()) as { heartbeatList: Record<string, { time: string }[]> };
    const first = body.heartbeatList["1"]?.[0];
    if (first) first.time = "not a date";
    const stub = (async () => Response.json(body)) as unknown as typeof fetch;
    const err = await failure(createKumaClient({ baseUrl: fake.url, fetch: stub }).getHeartbeats("home"));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toContain("heartbeatList.1[0].time");
  });

  test("newer 2.x answers: bare-id uptime keys, empty buckets as 0, ISO times", async () => {
    const body = {
      heartbeatList: { "4": [0, { status: 1, time: "2026-11-22T01:00:00.000Z", msg: "", ping: null }] },
      uptimeList: { "4": 0.25 },
    };
    const stub = (async () => Response.json(body)) as unknown as typeof fetch;
    const hb = await createKumaClient({ baseUrl: fake.url, fetch: stub }).getHeartbeats("home");
    expect(hb.get(4)).toEqual({
      beats: [{ status: "up", statusCode: 1, time: new Date("2026-11-22T01:00:00.000Z"), msg: "", ping: null }],
      uptime24: 0.25,
    });
  });

  test("an unknown slug gives no monitors (Kuma answers 200 with empty lists)", async () => {
    expect((await client.getHeartbeats("nope")).size).toBe(0);
    expect(errors).toEqual([]);
  });

  test("HTML, garbage and timeout fail typed", async () => {
    fake.failNext("html");
    expect((await failure(client.getHeartbeats("home"))).kind).toBe("bad_response");
    fake.failNext("garbage");
    expect((await failure(client.getHeartbeats("home"))).kind).toBe("bad_response");
    fake.failNext("timeout");
    expect((await failure(client.getHeartbeats("home"))).kind).toBe("timeout");
  });

  test("the time helper of the fake writes Kuma's format", () => {
    expect(kumaTime(T0)).toBe("2026-11-22 01:28:27.636");
  });
});

describe("getMetrics", () => {
  test("sends basic auth with the API key as password and returns the Prometheus text", async () => {
    const text = await client.getMetrics();
    expect(text).toContain("# TYPE monitor_status gauge");
    expect(text).toContain('monitor_status{monitor_name="Plex"');
    const auth = fake.requests.at(-1)?.headers.authorization ?? "";
    expect(auth.startsWith("Basic ")).toBe(true);
    expect(atob(auth.slice(6)).split(":")[1]).toBe(API_KEY);
  });

  test("a wrong key is unauthorized", async () => {
    const err = await failure(createKumaClient({ baseUrl: fake.url, apiKey: "wrong" }).getMetrics());
    expect(err.kind).toBe("unauthorized");
    expect(err.status).toBe(401);
  });

  test("an HTML page instead of metrics is a bad response", async () => {
    fake.failNext("html");
    const err = await failure(client.getMetrics());
    expect(err.kind).toBe("bad_response");
    expect(err.message).toContain("not Prometheus text");
    expect(errors).toEqual([{ service: "kuma", kind: "bad_response" }]);
  });
});
