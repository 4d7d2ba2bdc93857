// Traces over OTLP/HTTP to a real (fake) collector: a request continues the trace of its traceparent header, the
// work it does (a job, its integration calls) are its children, a job run on its own is a trace of its own, and
// log lines carry the ids of the span they are written in.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createDownloadWorkers } from "../src/services/download-worker";
import { saveKumaIntegration } from "../src/services/integrations";
import { insertDownload, listDownloadItems } from "../src/store/downloads";
import { startTracing } from "../src/telemetry/otel";
import { setTracing, stopTracing, tracing } from "../src/telemetry/trace";
import { type FakeCollector, startFakeCollector } from "./fakes/otlp-collector";
import { type FakeUptimeKuma, startFakeUptimeKuma } from "./fakes/uptime-kuma";
import { createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

let collector: FakeCollector;
let kuma: FakeUptimeKuma;
let t: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  collector = startFakeCollector();
  kuma = startFakeUptimeKuma({
    slug: "home",
    apiKey: "uk1_kuma-key",
    groups: [{ id: 1, name: "Media", monitors: [{ id: 11, name: "Plex (Kuma)" }] }],
  });
  kuma.setBeats(11, [{ status: 1, time: new Date(Date.now() - 60_000), ping: 12 }]);
  t = await createTestApp({ logLines });
  await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home", apiKey: "uk1_kuma-key" });
});

// Every attribute key the spans of these tests carried, for the last test.
const attributeKeys = new Set<string>();

afterEach(async () => {
  await stopTracing();
  for (const span of collector.spans) for (const key of Object.keys(span.attributes)) attributeKeys.add(key);
  collector.spans.length = 0;
});

afterAll(async () => {
  await t.close();
  await Promise.all([collector.stop(), kuma.stop()]);
});

/** Install tracing to the collector, as `serve` does with OTEL_EXPORTER_OTLP_ENDPOINT set. */
function trace(): void {
  setTracing(startTracing({ endpoint: `${collector.url}/`, serviceName: "medianest-test" }));
}

describe("with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  test("a request with a traceparent is a server span of that trace, its job and integration calls its children", async () => {
    trace();
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    logLines.length = 0;
    const kumaSeen = kuma.requests.length;
    const res = await admin.post(
      "/admin/jobs/status-checks/run",
      {},
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    );
    expect(res.status).toBe(200);
    // Shutting down sends what the batch holds.
    await stopTracing();

    const server = collector.spans.find((s) => s.kind === SERVER);
    expect(server).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: PARENT_ID,
      name: "POST /admin/jobs/:id/run",
      attributes: {
        "http.request.method": "POST",
        "http.route": "/admin/jobs/:id/run",
        "http.response.status_code": 200,
        "url.path": "/admin/jobs/status-checks/run",
      },
      resource: { "service.name": "medianest-test" },
    });
    const job = collector.spans.find((s) => s.name === "job status-checks");
    expect(job).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: server!.spanId,
      attributes: {
        "medianest.job.id": "status-checks",
        "medianest.job.trigger": "run-now",
        "medianest.job.outcome": "ok",
      },
    });
    const calls = collector.spans.filter((s) => s.kind === CLIENT);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.traceId).toBe(TRACE_ID);
      expect(call.parentSpanId).toBe(job!.spanId);
      expect(call.name).toBe("kuma GET");
      expect(call.attributes).toMatchObject({
        "medianest.integration.service": "kuma",
        "medianest.integration.outcome": "ok",
        "http.request.method": "GET",
        "http.response.status_code": 200,
        "server.address": "127.0.0.1",
      });
      // Only the host: an integration's URL may carry a token.
      expect(JSON.stringify(call.attributes)).not.toContain("/api/");
    }
    expect(collector.refused).toEqual([]);

    // Kuma was sent the trace: the incoming request's trace id, with the client span as the parent.
    const sent = kuma.requests.slice(kumaSeen).map((r) => r.headers.traceparent);
    expect(sent.length).toBe(calls.length);
    expect(sent.sort()).toEqual(calls.map((c) => `00-${TRACE_ID}-${c.spanId}-01`).sort());

    // The request's log line names the same trace and the server span.
    const line = logLines.map((l) => JSON.parse(l)).find((e) => e.msg === "request");
    expect(line).toMatchObject({ trace_id: TRACE_ID, span_id: server!.spanId, route: "/admin/jobs/:id/run" });
  });

  test("a failed integration call is a failed client span naming how it failed", async () => {
    trace();
    kuma.failNext(503);
    expect(await t.deps.jobs.runNow("status-checks")).toBe("ok");
    await stopTracing();
    const failed = collector.spans.find(
      (s) => s.kind === CLIENT && s.attributes["medianest.integration.outcome"] !== "ok",
    );
    expect(failed).toMatchObject({
      status: { code: ERROR },
      attributes: {
        "medianest.integration.outcome": "refused",
        "error.type": "refused",
        "http.response.status_code": 503,
      },
    });
  });

  test("a job run on its own is a trace of its own", async () => {
    trace();
    expect(await t.deps.jobs.runNow("session-cleanup")).toBe("ok");
    await stopTracing();
    const job = collector.spans.find((s) => s.name === "job session-cleanup");
    expect(job).toMatchObject({
      parentSpanId: "",
      kind: 1,
      attributes: { "medianest.job.id": "session-cleanup", "medianest.job.outcome": "ok" },
      status: { code: 0 },
    });
  });

  test("a download a worker runs is a span saying how the item ended", async () => {
    trace();
    const user = await givenUser(t.deps);
    const id = crypto.randomUUID();
    const at = new Date();
    // A folder that does not exist: the worker fails the item before yt-dlp runs.
    await insertDownload(
      t.deps.database,
      {
        id,
        userId: user.id,
        url: "https://www.youtube.com/watch?v=1",
        kind: "video",
        remoteId: "v1",
        title: "One video",
        quality: "best",
        sectionKey: "1",
        folder: "/nowhere/medianest-tracing",
        status: "queued",
        itemCount: 1,
        createdAt: at,
        updatedAt: at,
      },
      [
        {
          id: `${id}-1`,
          downloadId: id,
          userId: user.id,
          position: 1,
          remoteId: "v1",
          title: "One video",
          url: "https://www.youtube.com/watch?v=1",
          status: "queued",
          attempts: 0,
          nextAttemptAt: at,
          createdAt: at,
        },
      ],
    );
    const workers = createDownloadWorkers(t.deps, { concurrency: 1, pollMs: 50 });
    await workers.start();
    try {
      for (let i = 0; i < 100; i++) {
        const [item] = await listDownloadItems(t.deps.database, id);
        if (item?.status === "failed") break;
        await Bun.sleep(50);
      }
    } finally {
      await workers.stop();
    }
    await stopTracing();
    expect(collector.spans.find((s) => s.name === "download item")).toMatchObject({
      parentSpanId: "",
      attributes: {
        "medianest.download.id": id,
        "medianest.download.item_id": `${id}-1`,
        "medianest.download.attempt": 1,
        "medianest.download.outcome": "failed",
      },
    });
  });

  test("a request without traceparent starts a trace; an unmatched path is named so, never by its raw path", async () => {
    trace();
    expect((await t.request("/no-such-page")).status).toBe(404);
    expect((await t.request("/healthz")).status).toBe(200);
    await stopTracing();
    const servers = collector.spans.filter((s) => s.kind === SERVER);
    expect(servers.map((s) => s.name)).toEqual(["GET unmatched"]);
    expect(servers[0]!.parentSpanId).toBe("");
    expect(servers[0]!.traceId).not.toBe(TRACE_ID);
  });
});

describe("without it", () => {
  test("nothing is traced and log lines carry no trace ids", async () => {
    expect(tracing).toBeUndefined();
    logLines.length = 0;
    await t.request("/", { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
    expect(await t.deps.jobs.runNow("session-cleanup")).toBe("ok");
    const kumaSeen = kuma.requests.length;
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    const res = await admin.post(
      "/admin/jobs/status-checks/run",
      {},
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    );
    expect(res.status).toBe(200);
    // Integration calls carry no trace context of their own, nor the incoming one.
    const sent = kuma.requests.slice(kumaSeen);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.headers.traceparent).toBeUndefined();
      expect(r.headers.tracestate).toBeUndefined();
    }
    await Bun.sleep(50);
    expect(collector.spans).toEqual([]);
    expect(logLines.join("\n")).not.toContain("trace_id");
  });
});

test("docs/operations.md names every attribute the spans carry", async () => {
  const doc = await Bun.file(`${import.meta.dir}/../docs/operations.md`).text();
  expect(attributeKeys.size).toBeGreaterThan(10);
  expect([...attributeKeys].filter((key) => !doc.includes(`\`${key}\``))).toEqual([]);
});
