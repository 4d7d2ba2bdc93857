import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { topics } from "../src/services/events";
import {
  saveKumaIntegration,
  savePlexIntegration,
  saveSeerrIntegration,
  saveYtdlpPath,
} from "../src/services/integrations";
import { getStatusOverview, runStatusChecks, STATUS_OVERVIEW_CACHE_KEY, uptimeFraction } from "../src/services/status";
import type { ServiceTile, StatusOverview } from "../src/services/status-types";
import { saveSeerr } from "../src/services/integration-settings";
import { STATUS_HISTORY_DAYS } from "../src/jobs/status-history-retention";
import { insertServiceChecks, type ServiceCheck } from "../src/store/service-checks";
import { FaultQueue, type Fault, type RecordedRequest, recordRequest } from "./fakes/http-fake";
import { type FakePlexServer, startFakePlexServer } from "./fakes/plex-server";
import { type FakeUptimeKuma, startFakeUptimeKuma } from "./fakes/uptime-kuma";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";
import { postgresAvailable, redisAvailable } from "./helpers/services";

const MACHINE_ID = "f00dbabe0000111122223333444455556666777788";
const SEERR_KEY = "seerr-api-key";
const KUMA_KEY = "uk1_kuma-key";
/** A short per-check timeout so timeouts are tested in a fraction of the real 5 s. */
const TIMEOUT_MS = 250;
/** The real timeout, for tests that need every check to succeed. */
const CALM_TIMEOUT_MS = 5_000;
const NOW = Date.now();

/** A tiny Seerr answering GET /api/v1/status the way Seerr does ({version, commitTag, ...}; no `status: ok`). */
interface FakeSeerrStatus {
  url: string;
  requests: RecordedRequest[];
  restartRequired: boolean;
  failNext(fault: Fault): void;
  stop(): Promise<void>;
}

function startFakeSeerrStatus(): FakeSeerrStatus {
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue(
    (status) => Response.json({ message: status === 401 ? "Unauthorized" : "Injected failure" }, { status }),
    5_000,
  );
  const fake = {
    url: "",
    requests,
    restartRequired: false,
    failNext: (f: Fault) => faults.push(f),
    stop: async () => {
      faults.releaseAll();
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(raw) {
      const req = await recordRequest(raw);
      requests.push(req);
      const fault = await faults.next();
      if (fault) return fault;
      if (req.method === "GET" && req.path === "/api/v1/status") {
        if (req.headers["x-api-key"] !== SEERR_KEY) return Response.json({ message: "Unauthorized" }, { status: 401 });
        return Response.json({
          version: "2.7.3",
          commitTag: "v2.7.3",
          updateAvailable: false,
          commitsBehind: 0,
          restartRequired: fake.restartRequired,
        });
      }
      return Response.json({ message: "Not Found" }, { status: 404 });
    },
  });
  fake.url = `http://127.0.0.1:${server.port}`;
  return fake;
}

/** Write an executable shell script standing in for yt-dlp. */
function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

let plex: FakePlexServer;
let seerr: FakeSeerrStatus;
let kuma: FakeUptimeKuma;
let binDir: string;
let ytdlpOk: string;

beforeAll(() => {
  plex = startFakePlexServer({ machineIdentifier: MACHINE_ID, ownerToken: "owner-token", holdMs: 5_000 });
  seerr = startFakeSeerrStatus();
  kuma = startFakeUptimeKuma({
    slug: "home",
    apiKey: KUMA_KEY,
    holdMs: 5_000,
    groups: [
      {
        id: 1,
        name: "Media",
        monitors: [
          { id: 11, name: "Plex (Kuma)" },
          { id: 12, name: "Sonarr" },
        ],
      },
      { id: 2, name: "Network", monitors: [{ id: 21, name: "Router", type: "ping" }] },
    ],
  });
  binDir = mkdtempSync(join(tmpdir(), "medianest-status-"));
  ytdlpOk = script(binDir, "yt-dlp-ok", 'echo "2025.01.15"');
});

afterAll(async () => {
  await Promise.all([plex.stop(), seerr.stop(), kuma.stop()]);
  rmSync(binDir, { recursive: true, force: true });
});

function resetKuma() {
  kuma.setVersion("2");
  kuma.setIncidents([]);
  kuma.setMaintenance([]);
  kuma.setBeats(11, [
    { status: 1, time: new Date(NOW - 120_000), ping: 20 },
    { status: 1, time: new Date(NOW - 60_000), ping: 18 },
  ]);
  kuma.setBeats(12, [
    { status: 1, time: new Date(NOW - 120_000), ping: 30 },
    { status: 0, time: new Date(NOW - 60_000), ping: null },
  ]);
  kuma.setBeats(21, [{ status: 1, time: new Date(NOW - 60_000), ping: 2 }]);
  kuma.setUptime(11, { day: 0.9993 });
  kuma.setUptime(12, { day: 0.5 });
  kuma.setUptime(21, { day: 1 });
  seerr.restartRequired = false;
}

async function configureAll(t: TestApp, ytdlpPath = ytdlpOk) {
  await savePlexIntegration(t.deps, {
    url: plex.url,
    token: "owner-token",
    machineIdentifier: MACHINE_ID,
    name: "Home",
  });
  await saveSeerrIntegration(t.deps, { url: `${seerr.url}/`, apiKey: SEERR_KEY });
  await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home", apiKey: KUMA_KEY });
  await saveYtdlpPath(t.deps, ytdlpPath);
}

function tile(o: StatusOverview, id: string): ServiceTile {
  const found = o.tiles.find((x) => x.id === id);
  if (!found) throw new Error(`status test: no tile ${id} in ${o.tiles.map((x) => x.id).join(", ")}`);
  return found;
}

async function metricsText(t: TestApp): Promise<string> {
  const res = await t.request("/metrics");
  expect(res.status).toBe(200);
  return res.text();
}

/** Pull one tile's HTML out of the page (tiles are <article data-tile="…">). */
function tileHtml(html: string, id: string): string {
  const start = html.indexOf(`data-tile="${id}"`);
  if (start < 0) throw new Error(`status test: the page has no tile ${id}`);
  const end = html.indexOf("</article>", start);
  return html.slice(start, end);
}

describe("status checks against fake Plex, Seerr, Uptime Kuma and a yt-dlp stand-in", () => {
  let t: TestApp;
  let member: Browser;
  let admin: Browser;
  // The outages these tests provoke are logged; kept here so the run reads clean, and read by the test of them.
  let logLines: string[];

  beforeEach(async () => {
    resetKuma();
    logLines = [];
    t = await createTestApp({ logLines });
    await configureAll(t);
    member = await signIn(t, await givenUser(t.deps));
    admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
  });

  afterEach(async () => {
    await t.close();
  });

  test("everything answers: own tiles up, Kuma monitors in their groups, metrics say up", async () => {
    const plexBefore = plex.requests.length;
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    for (const id of ["plex", "seerr", "kuma", "ytdlp"]) {
      expect(tile(overview, id)).toMatchObject({ state: "up", reason: null, group: "MediaNest", source: "medianest" });
      expect(tile(overview, id).responseMs).toBeGreaterThanOrEqual(0);
    }
    expect(plex.requests.slice(plexBefore).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /identity"]);
    const seerrReq = seerr.requests.at(-1);
    expect(seerrReq?.path).toBe("/api/v1/status");
    expect(seerrReq?.headers["x-api-key"]).toBe(SEERR_KEY);

    expect(tile(overview, "kuma:11")).toMatchObject({
      name: "Plex (Kuma)",
      group: "Media",
      state: "up",
      responseMs: 18,
      source: "kuma",
      // 24 h is Kuma's; 7 d and 30 d are MediaNest's own record of the monitor, one check so far.
      uptime: { day: 0.9993, week: 1, month: 1 },
    });
    expect(tile(overview, "kuma:11").recent.map((r) => r.state)).toEqual(["up", "up"]);
    expect(tile(overview, "kuma:11").recent[1]?.at.getTime()).toBe(NOW - 60_000);
    expect(tile(overview, "kuma:12")).toMatchObject({
      state: "down",
      // Kuma's public heartbeats carry no message, so the tile says that it does not know why.
      reason: "Uptime Kuma reports it down (its public status page does not say why)",
      responseMs: null,
      uptime: { day: 0.5, week: 0, month: 0 },
    });
    expect(tile(overview, "kuma:21")).toMatchObject({ group: "Network", state: "up" });
    expect(overview.sourceErrors).toEqual([]);
    expect(tile(overview, "plex").uptime).toEqual({ day: 1, week: 1, month: 1 });

    const metrics = await metricsText(t);
    for (const s of ["plex", "seerr", "kuma", "ytdlp"])
      expect(metrics).toContain(`medianest_integration_up{service="${s}"} 1`);
    expect(metrics).toMatch(/medianest_integration_request_duration_seconds_count\{service="plex"\} [1-9]/);
    expect(metrics).toMatch(/medianest_integration_request_duration_seconds_count\{service="ytdlp"\} [1-9]/);

    const res = await member.get("/status");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="status-tiles"');
    expect(html).toContain('hx-trigger="mn-status from:#live"');
    expect(tileHtml(html, "plex")).toContain('class="pill pill-up">Up</span>');
    expect(tileHtml(html, "kuma:12")).toContain('class="pill pill-down">Down</span>');
    expect(tileHtml(html, "kuma:12")).toContain("Uptime Kuma reports it down");
    expect(tileHtml(html, "kuma:11")).toContain("99.93 %");
    expect(tileHtml(html, "kuma:11")).toContain('aria-label="Last 2 checks: 2 up"');
    expect(html).toContain(">Media</h2>");
    expect(html).toContain(">Network</h2>");
    expect(html.indexOf(">MediaNest</h2>")).toBeLessThan(html.indexOf(">Media</h2>"));
    expect(html).not.toContain("Check now");
    // The time of the last check is a <time> the browser shows in the viewer's zone, not a bare UTC string.
    expect(html).toMatch(/Last checked <time datetime="[^"]+Z" title="[^"]+ UTC" data-local="text">/);
    expect(await (await admin.get("/status")).text()).toContain("Check now");
  });

  test("each poll records every Kuma monitor's state in MediaNest's history; 7 d and 30 d come from it, marked since when", async () => {
    // Every poll must read Kuma here, so a loaded machine's slow answer is no timeout.
    const day = 86_400_000;
    const { db, tables } = t.deps.database;
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    let stored = await db.select().from(tables.serviceChecks);
    expect(
      stored
        .filter((r) => r.service.startsWith("kuma:"))
        .map((r) => [r.service, r.status, r.responseMs])
        .sort(),
    ).toEqual([
      ["kuma:11", "up", 18],
      ["kuma:12", "down", null],
      ["kuma:21", "up", 2],
    ]);
    expect(stored.find((r) => r.service === "kuma:12")?.message).toBe(
      "Uptime Kuma reports it down (its public status page does not say why)",
    );

    // Ten days of history for monitor 11: 6 down checks 9 days ago, 2 up checks 3 days ago (plus the poll's up ones).
    const older = (n: number, status: ServiceCheck["status"], ageMs: number): ServiceCheck[] =>
      Array.from({ length: n }, (_, i) => ({
        id: crypto.randomUUID(),
        service: "kuma:11",
        checkedAt: new Date(Date.now() - ageMs - i * 60_000),
        status,
        responseMs: 10,
        message: null,
      }));
    const first = older(6, "down", 9 * day);
    await insertServiceChecks(t.deps.database, [...first, ...older(2, "up", 3 * day)]);
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    // 7 d: 2 + 2 polls up of 4; 30 d: 4 up of 10. Kuma's own 24 h stays.
    expect(tile(overview, "kuma:11").uptime).toEqual({ day: 0.9993, week: 1, month: 0.4 });
    expect(tile(overview, "kuma:11").measuredSince).toEqual(first.at(-1)!.checkedAt);
    expect(tile(overview, "kuma:12").uptime).toEqual({ day: 0.5, week: 0, month: 0 });
    stored = await db.select().from(tables.serviceChecks);
    expect(stored.filter((r) => r.service === "kuma:12").length).toBe(2);

    const html = await (await member.get("/status")).text();
    const since = first.at(-1)!.checkedAt.toISOString();
    // Ten days cover the week, not the month: only 30 d is marked, with the date as a localised <time>.
    expect(tileHtml(html, "kuma:11")).toContain(
      `30 d measured by MediaNest since <time datetime="${since}" title="${since.slice(0, 16).replace("T", " ")} UTC" data-local="text">`,
    );
    expect(tileHtml(html, "kuma:11")).toContain("40.00 %");
    // A monitor first seen today: both periods are marked.
    expect(tileHtml(html, "kuma:12")).toContain("7 d and 30 d measured by MediaNest since <time");
    // MediaNest's own tiles measure every period themselves.
    expect(tileHtml(html, "plex")).toContain("24 h, 7 d and 30 d measured by MediaNest since <time");

    // History reaching past 30 days covers every period: no mark.
    await insertServiceChecks(t.deps.database, older(1, "up", 30 * day + 3_600_000));
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    expect(tileHtml(await (await member.get("/status")).text(), "kuma:11")).not.toContain("measured by MediaNest");
  });

  test("an integration going down logs one warn line naming it and why, coming back one info line; a steady state none", async () => {
    const statusLines = () =>
      logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith("status:"));
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    expect(statusLines()).toEqual([]);

    seerr.failNext(401);
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    seerr.failNext(401);
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    expect(statusLines()).toEqual([
      {
        time: expect.any(String),
        level: "warn",
        msg: "status: integration down",
        service: "seerr",
        name: "Seerr",
        reason: "Seerr answered 401: check the API key",
      },
    ]);

    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    await runStatusChecks(t.deps, { timeoutMs: CALM_TIMEOUT_MS });
    expect(statusLines().slice(1)).toEqual([
      {
        time: expect.any(String),
        level: "info",
        msg: "status: integration recovered",
        service: "seerr",
        name: "Seerr",
        state: "up",
      },
    ]);
  });

  test("the page reads the cache and never calls an upstream", async () => {
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    const counts = [plex.requests.length, seerr.requests.length, kuma.requests.length];
    plex.failNext("timeout");
    const started = performance.now();
    const res = await member.get("/status");
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(200);
    expect([plex.requests.length, seerr.requests.length, kuma.requests.length]).toEqual(counts);
    // Leave no fault queued for the next test.
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
  });

  test("Plex not answering in time: down, says so, metrics count the timeout", async () => {
    plex.failNext("timeout");
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "plex")).toMatchObject({
      state: "down",
      reason: "Plex did not answer (timeout after 0.3 s)",
    });
    const metrics = await metricsText(t);
    expect(metrics).toContain('medianest_integration_up{service="plex"} 0');
    expect(metrics).toContain('medianest_integration_errors_total{service="plex",kind="timeout"} 1');
    const res = await member.get("/status");
    expect(res.status).toBe(200);
    const html = tileHtml(await res.text(), "plex");
    expect(html).toContain('class="pill pill-down">Down</span>');
    expect(html).toContain("Plex did not answer (timeout after 0.3 s)");
  });

  test.each([
    ["html" as const, "Plex answered something that is not JSON", "bad_response"],
    ["garbage" as const, "Plex answered something that is not JSON", "bad_response"],
    [401 as const, "Plex answered 401: check the token", "unauthorized"],
    [500 as const, "Plex refused the request (status 500)", "refused"],
  ])("Plex answering %p: the tile says what is wrong", async (fault, reason, kind) => {
    plex.failNext(fault);
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "plex")).toMatchObject({ state: "down", reason });
    expect(await metricsText(t)).toContain(`medianest_integration_errors_total{service="plex",kind="${kind}"} 1`);
    const res = await member.get("/status");
    expect(res.status).toBe(200);
    expect(tileHtml(await res.text(), "plex")).toContain(reason);
  });

  test("Seerr: a wrong key says to check the API key; HTML and timeouts say what happened", async () => {
    seerr.failNext(401);
    let { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "seerr")).toMatchObject({ state: "down", reason: "Seerr answered 401: check the API key" });
    seerr.failNext("html");
    ({ overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS }));
    expect(tile(overview, "seerr").reason).toBe("Seerr answered something that is not JSON");
    seerr.failNext("timeout");
    ({ overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS }));
    expect(tile(overview, "seerr").reason).toBe("Seerr did not answer (timeout after 0.3 s)");
    seerr.restartRequired = true;
    ({ overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS }));
    expect(tile(overview, "seerr")).toMatchObject({ state: "degraded", reason: "Seerr 2.7.3 asks for a restart" });
    const metrics = await metricsText(t);
    expect(metrics).toContain('medianest_integration_errors_total{service="seerr",kind="unauthorized"} 1');
    expect(metrics).toContain('medianest_integration_errors_total{service="seerr",kind="timeout"} 1');
    expect(metrics).toContain('medianest_integration_up{service="seerr"} 1');
    // 4 runs: 3 failed, 1 degraded (counts as available).
    expect(tile(overview, "seerr").uptime.day).toBe(0.25);
    const res = await member.get("/status");
    expect(res.status).toBe(200);
    expect(tileHtml(await res.text(), "seerr")).toContain('class="pill pill-degraded">Degraded</span>');
  });

  test("Uptime Kuma failing: its own tile is down, monitors keep their last state as unknown with the reason", async () => {
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    kuma.failNext("timeout");
    kuma.failNext("timeout");
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "kuma")).toMatchObject({
      state: "down",
      reason: "Uptime Kuma did not answer (timeout after 0.3 s)",
    });
    expect(overview.sourceErrors).toEqual(["Uptime Kuma did not answer (timeout after 0.3 s)"]);
    expect(tile(overview, "kuma:11")).toMatchObject({
      state: "unknown",
      reason: "Uptime Kuma could not be read: Uptime Kuma did not answer (timeout after 0.3 s)",
    });
    expect(tile(overview, "kuma:11").recent.length).toBe(2);
    expect(await metricsText(t)).toContain('medianest_integration_up{service="kuma"} 0');
    const res = await member.get("/status");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(
      "Uptime Kuma did not answer (timeout after 0.3 s). The Uptime Kuma monitors below show their last known state.",
    );
    expect(tileHtml(html, "kuma:11")).toContain('class="pill">Unknown</span>');
  });

  test.each([["html" as const], ["garbage" as const], [500 as const]])(
    "Uptime Kuma answering %p: a typed reason, never a 500",
    async (fault) => {
      kuma.failNext(fault);
      kuma.failNext(fault);
      const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      const k = tile(overview, "kuma");
      expect(k.state).toBe("down");
      expect(k.reason).toMatch(
        fault === 500
          ? /^Uptime Kuma refused the request \(status 500\)$/
          : /^Uptime Kuma answered something that is not JSON$/,
      );
      expect(overview.tiles.filter((x) => x.source === "kuma")).toEqual([]);
      expect((await member.get("/status")).status).toBe(200);
    },
  );

  test("a wrong Kuma slug names the slug", async () => {
    await saveKumaIntegration(t.deps, { url: kuma.url, slug: "office" });
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "kuma").reason).toBe(
      'Uptime Kuma has no status page with the slug "office" (Status Page Not Found)',
    );
  });

  test("an unknown Kuma status number gives an unknown tile that says why; pending is degraded, maintenance is maintenance", async () => {
    kuma.setBeats(11, [{ status: 7, time: new Date(NOW - 1000), ping: 5 }]);
    kuma.setBeats(12, [{ status: 2, time: new Date(NOW - 1000), ping: null }]);
    kuma.setBeats(21, [{ status: 3, time: new Date(NOW - 1000), ping: null }]);
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "kuma:11")).toMatchObject({
      state: "unknown",
      reason: "Uptime Kuma sent a status it does not document (7)",
    });
    expect(tile(overview, "kuma:12")).toMatchObject({
      state: "degraded",
      reason: "Uptime Kuma is retrying (pending)",
    });
    expect(tile(overview, "kuma:21")).toMatchObject({ state: "maintenance", reason: null });
    const html = await (await member.get("/status")).text();
    expect(tileHtml(html, "kuma:11")).toContain("(7)");
    expect(tileHtml(html, "kuma:21")).toContain('class="pill pill-maintenance">Maintenance</span>');
  });

  test("a monitor without beats is unknown with a reason", async () => {
    kuma.setBeats(21, []);
    const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    expect(tile(overview, "kuma:21")).toMatchObject({
      state: "unknown",
      reason: "Uptime Kuma has no checks for this monitor yet",
    });
  });

  test.each([["1.23" as const], ["2" as const]])(
    "Kuma %s: incidents and maintenance become announcements above the tiles",
    async (version) => {
      kuma.setVersion(version);
      kuma.setIncidents([
        {
          title: "Disk nearly full",
          content: "Downloads may fail",
          style: "danger",
          createdDate: new Date("2026-03-01T10:00:00Z"),
        },
      ]);
      kuma.setMaintenance([{ title: "NAS upgrade", description: "Saturday 02:00" }]);
      const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(overview.announcements).toEqual([
        { title: "NAS upgrade", content: "Saturday 02:00", style: "maintenance", at: null },
        {
          title: "Disk nearly full",
          content: "Downloads may fail",
          style: "danger",
          at: new Date("2026-03-01T10:00:00Z"),
        },
      ]);
      expect(tile(overview, "kuma:11").state).toBe("up");
      const html = await (await member.get("/status")).text();
      const announce = html.indexOf("Disk nearly full");
      expect(announce).toBeGreaterThan(0);
      expect(announce).toBeLessThan(html.indexOf('data-tile="plex"'));
      expect(html).toContain("Maintenance: NAS upgrade");
      expect(html).toContain('class="alert alert-error status-announcement"');
    },
  );

  test("Kuma's Markdown incident and maintenance texts are rendered, hostile parts inert, under the strict CSP", async () => {
    kuma.setIncidents([
      {
        title: "Disk <b>nearly</b> full",
        content:
          "**Downloads may fail.** See [the NAS](https://nas.example.com/).\n[x](javascript:alert(1)) <script>alert(2)</script> <img src=x onerror=alert(3)>",
        style: "warning",
      },
    ]);
    kuma.setMaintenance([{ title: "NAS upgrade", description: "- disks\n- [firmware](data:text/html,hi)" }]);
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    const res = await member.get("/status");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self';");
    const html = await res.text();
    expect(html).toContain("Disk &lt;b&gt;nearly&lt;/b&gt; full");
    expect(html).toContain(
      '<strong>Downloads may fail.</strong> See <a href="https://nas.example.com/" target="_blank" rel="noopener noreferrer">the NAS</a>',
    );
    expect(html).toContain(
      "[x](javascript:alert(1)) &lt;script&gt;alert(2)&lt;/script&gt; &lt;img src=x onerror=alert(3)&gt;",
    );
    expect(html).toContain("<li>disks</li>");
    expect(html).toContain("<li>[firmware](data:text/html,hi)</li>");
    expect(html).not.toMatch(/href="(javascript|data):|<script>alert|<img src=x| style=/);
  });

  test("yt-dlp: missing, failing, slow and chatty binaries each say what is wrong", async () => {
    const cases: [string, RegExp, string][] = [
      [join(binDir, "nope"), /^yt-dlp not found at .*nope$/, "network"],
      [
        script(binDir, "yt-dlp-broken", 'echo "ImportError: no module named yt_dlp" >&2; exit 1'),
        /^yt-dlp at .*yt-dlp-broken failed \(exit 1\): ImportError: no module named yt_dlp$/,
        "refused",
      ],
      [
        script(binDir, "yt-dlp-slow", "sleep 5; echo 2025.01.15"),
        /^yt-dlp at .*yt-dlp-slow did not answer \(timeout after 0\.3 s\)$/,
        "timeout",
      ],
      [script(binDir, "yt-dlp-chatty", "echo '<html>'"), /yt-dlp-chatty does not look like yt-dlp/, "bad_response"],
    ];
    for (const [path, reason, kind] of cases) {
      await saveYtdlpPath(t.deps, path);
      const started = performance.now();
      const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(tile(overview, "ytdlp").state).toBe("down");
      expect(tile(overview, "ytdlp").reason).toMatch(reason);
      expect(await metricsText(t)).toContain(`medianest_integration_errors_total{service="ytdlp",kind="${kind}"} 1`);
    }
    expect(await metricsText(t)).toContain('medianest_integration_up{service="ytdlp"} 0');
    expect((await member.get("/status")).status).toBe(200);
  });

  test("a state change publishes one status event; an unchanged run publishes none", async () => {
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    const events: unknown[] = [];
    const unsubscribe = await t.deps.coordination.pubsub.subscribe(topics.everyone, (m) => events.push(m));
    try {
      const same = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(same.changed).toBe(false);
      await Bun.sleep(50);
      expect(events).toEqual([]);

      plex.failNext(500);
      const changed = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(changed.changed).toBe(true);
      await Bun.sleep(50);
      expect(events).toEqual([{ type: "status" }]);

      // Response times change every run; only states, reasons and announcements count.
      events.length = 0;
      kuma.addBeat(11, { status: 1, time: new Date(), ping: 999 });
      plex.failNext(500);
      expect((await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS })).changed).toBe(false);
      await Bun.sleep(50);
      expect(events).toEqual([]);
    } finally {
      await unsubscribe();
    }
  });

  test("Check now: admins run the checks and get the refreshed tiles; members may not", async () => {
    expect((await member.post("/status/check", {}, { "hx-request": "true" })).status).toBe(403);
    const before = (await getStatusOverview(t.deps)).tiles.find((x) => x.id === "plex");
    expect(before).toMatchObject({ state: "unknown", reason: "not checked yet" });
    const res = await admin.post("/status/check", {}, { "hx-request": "true" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<div id="status-tiles"')).toBe(true);
    expect(html).not.toContain("<html");
    expect(tileHtml(html, "plex")).toContain("pill-up");
    const plain = await admin.post("/status/check");
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("/status");
  });

  test("the live refresh gets the tiles fragment for a targeted htmx request", async () => {
    await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
    const res = await member.get("/status", { "hx-request": "true", "hx-request-type": "partial" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<div id="status-tiles"')).toBe(true);
  });
});

describe("before the first run", () => {
  test("tiles come from stored checks, and unchecked services say so", async () => {
    const t = await createTestApp();
    try {
      await configureAll(t);
      const at = new Date(NOW - 60_000);
      await insertServiceChecks(t.deps.database, [
        {
          id: crypto.randomUUID(),
          service: "plex",
          checkedAt: at,
          status: "down",
          responseMs: 5000,
          message: "Plex did not answer (timeout after 5 s)",
        },
      ]);
      const o = await getStatusOverview(t.deps);
      expect(tile(o, "plex")).toMatchObject({
        state: "down",
        reason: "Plex did not answer (timeout after 5 s)",
        responseMs: 5000,
      });
      expect(tile(o, "seerr")).toMatchObject({ state: "unknown", reason: "not checked yet", recent: [] });
      expect(o.updatedAt).toEqual(at);
      expect(await t.deps.coordination.cache.get(STATUS_OVERVIEW_CACHE_KEY)).toBeUndefined();
      const member = await signIn(t, await givenUser(t.deps));
      await givenUser(t.deps, { role: "admin" });
      const res = await member.get("/status");
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(tileHtml(html, "seerr")).toContain("not checked yet");
      expect(tileHtml(html, "plex")).toContain("Plex did not answer (timeout after 5 s)");
    } finally {
      await t.close();
    }
  });

  test("pages asking together share one build from stored checks; saving an integration builds it again", async () => {
    const t = await createTestApp();
    try {
      await savePlexIntegration(t.deps, { url: plex.url, token: "owner-token", machineIdentifier: MACHINE_ID });
      await insertServiceChecks(t.deps.database, [
        {
          id: crypto.randomUUID(),
          service: "plex",
          checkedAt: new Date(NOW - 60_000),
          status: "up",
          responseMs: 9,
          message: null,
        },
      ]);
      const summaries: string[] = [];
      const sqlite = t.deps.database.sqlite!;
      const prepare = sqlite.prepare.bind(sqlite);
      sqlite.prepare = ((q: string) => {
        if (q.includes("count(case when")) summaries.push(q);
        return prepare(q);
      }) as typeof sqlite.prepare;
      const all = await Promise.all([getStatusOverview(t.deps), getStatusOverview(t.deps), getStatusOverview(t.deps)]);
      expect(all.map((o) => o.tiles.map((x) => x.id))).toEqual([["plex"], ["plex"], ["plex"]]);
      expect(tile(all[0]!, "plex").state).toBe("up");
      expect(summaries.length).toBe(1);
      expect(await t.deps.coordination.cache.get(STATUS_OVERVIEW_CACHE_KEY)).toBeUndefined();
      await saveSeerr(t.deps, { name: "admin" }, { url: seerr.url, apiKey: SEERR_KEY });
      const after = await getStatusOverview(t.deps);
      expect(after.tiles.map((x) => x.id)).toEqual(["plex", "seerr"]);
      expect(summaries.length).toBe(2);
    } finally {
      await t.close();
    }
  });

  test("nothing configured: no tile at all, not even yt-dlp's default path", async () => {
    const t = await createTestApp();
    try {
      const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(overview.tiles).toEqual([]);
      expect((await getStatusOverview(t.deps)).tiles).toEqual([]);
      expect(await metricsText(t)).not.toContain('medianest_integration_up{service="ytdlp"}');
      await givenUser(t.deps, { role: "admin" });
      const member = await signIn(t, await givenUser(t.deps));
      const html = await (await member.get("/status")).text();
      expect(html).toContain("Nothing is watched yet");
      expect(html).not.toContain('data-tile="ytdlp"');
    } finally {
      await t.close();
    }
  });

  test("nothing configured but yt-dlp: only its tile", async () => {
    const t = await createTestApp();
    try {
      await saveYtdlpPath(t.deps, ytdlpOk);
      const { overview } = await runStatusChecks(t.deps, { timeoutMs: TIMEOUT_MS });
      expect(overview.tiles.map((x) => [x.id, x.state])).toEqual([["ytdlp", "up"]]);
      expect(await metricsText(t)).not.toContain('medianest_integration_up{service="plex"}');
    } finally {
      await t.close();
    }
  });
});

test("uptimeFraction: degraded counts as available, maintenance and unknown are left out", () => {
  expect(uptimeFraction(undefined)).toBeNull();
  expect(uptimeFraction({ maintenance: 3 })).toBeNull();
  expect(uptimeFraction({ up: 3, down: 1, maintenance: 5, unknown: 2 })).toBe(0.75);
  expect(uptimeFraction({ up: 1, degraded: 1, down: 2 })).toBe(0.5);
});

const setups = [
  { name: "SQLite + memory", dialect: "sqlite" as const, redis: false, skip: false },
  {
    name: "PostgreSQL + Redis",
    dialect: "postgres" as const,
    redis: true,
    skip: !postgresAvailable || !redisAvailable,
  },
];

for (const setup of setups) {
  describe.skipIf(setup.skip)(`stored history (${setup.name})`, () => {
    let t: TestApp;

    beforeEach(async () => {
      t = await createTestApp({ dialect: setup.dialect, redis: setup.redis });
    });

    afterEach(async () => {
      await t.close();
    });

    function rows(service: string, status: ServiceCheck["status"], n: number, ageMs: number): ServiceCheck[] {
      return Array.from({ length: n }, (_, i) => ({
        id: crypto.randomUUID(),
        service,
        checkedAt: new Date(NOW - ageMs - i * 1000),
        status,
        responseMs: 10,
        message: null,
      }));
    }

    test("uptime over 24 h, 7 d and 30 d is the fraction of up checks, maintenance left out", async () => {
      await savePlexIntegration(t.deps, { url: plex.url, token: "owner-token" });
      const hour = 3_600_000;
      const day = 24 * hour;
      await insertServiceChecks(t.deps.database, [
        ...rows("plex", "up", 3, hour),
        ...rows("plex", "down", 1, 2 * hour),
        ...rows("plex", "maintenance", 2, 3 * hour),
        ...rows("plex", "down", 4, 3 * day),
        ...rows("plex", "up", 2, 20 * day),
        ...rows("plex", "down", 7, 40 * day),
        ...rows("seerr", "down", 5, hour),
      ]);
      const o = await getStatusOverview(t.deps);
      // 24 h: 3 up of 4; 7 d: 3 of 8; 30 d: 5 of 10; rows older than 30 days do not count.
      expect(tile(o, "plex").uptime).toEqual({ day: 0.75, week: 0.375, month: 0.5 });
      expect(tile(o, "plex").state).toBe("up");
      expect(tile(o, "plex").recent.length).toBe(19);
      expect(tile(o, "plex").recent.at(-1)?.state).toBe("up");
      expect(tile(o, "plex").recent[0]?.state).toBe("down");
      expect(o.tiles.some((x) => x.id === "seerr")).toBe(false);
    });

    test("the strip holds at most the last 50 checks, oldest first", async () => {
      await savePlexIntegration(t.deps, { url: plex.url, token: "owner-token" });
      await insertServiceChecks(t.deps.database, [...rows("plex", "up", 60, 60_000), ...rows("plex", "down", 1, 0)]);
      const recent = tile(await getStatusOverview(t.deps), "plex").recent;
      expect(recent.length).toBe(50);
      expect(recent.at(-1)?.state).toBe("down");
      for (let i = 1; i < recent.length; i++)
        expect(recent[i]!.at.getTime()).toBeGreaterThan(recent[i - 1]!.at.getTime());
    });

    test(`retention deletes only checks older than ${STATUS_HISTORY_DAYS} days`, async () => {
      const day = 86_400_000;
      const keep = [...rows("plex", "up", 3, 0), ...rows("seerr", "down", 2, (STATUS_HISTORY_DAYS - 1) * day)];
      const old = [...rows("plex", "up", 4, (STATUS_HISTORY_DAYS + 1) * day), ...rows("kuma", "down", 1, 90 * day)];
      await insertServiceChecks(t.deps.database, [...keep, ...old]);
      expect(await t.deps.jobs.runNow("status-history-retention")).toBe("ok");
      const { db, tables } = t.deps.database;
      const left = await db.select({ id: tables.serviceChecks.id }).from(tables.serviceChecks);
      expect(left.map((r) => r.id).sort()).toEqual(keep.map((r) => r.id).sort());
    });

    test("the checks job records a row per configured service and caches the overview", async () => {
      await savePlexIntegration(t.deps, { url: plex.url, token: "owner-token", machineIdentifier: MACHINE_ID });
      await saveYtdlpPath(t.deps, ytdlpOk);
      expect(await t.deps.jobs.runNow("status-checks")).toBe("ok");
      const { db, tables } = t.deps.database;
      const stored = await db.select().from(tables.serviceChecks);
      expect(stored.map((r) => [r.service, r.status]).sort()).toEqual([
        ["plex", "up"],
        ["ytdlp", "up"],
      ]);
      expect(await t.deps.coordination.cache.get(STATUS_OVERVIEW_CACHE_KEY)).toBeDefined();
      const o = await getStatusOverview(t.deps);
      expect(o.updatedAt).toBeInstanceOf(Date);
      expect(tile(o, "plex").recent[0]?.at).toBeInstanceOf(Date);
    });
  });
}
