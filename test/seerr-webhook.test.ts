import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { savePlexIntegration, saveSeerrIntegration } from "../src/services/integrations";
import { plexWebUrl } from "../src/services/plex-links";
import { findMediaRequestById, listMediaRequests } from "../src/store/media-requests";
import { listNotifications } from "../src/store/notifications";
import {
  type FakeSeerr,
  loadSeerrSpec,
  SEERR_PERMISSIONS,
  seerrMovie,
  seerrShow,
  seerrUser,
  startFakeSeerr,
} from "./fakes/seerr";
import { postgresAvailable, redisAvailable } from "./helpers/services";
import { type Browser, createTestApp, type Dialect, givenUser, ORIGIN, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-webhook-key";
const P = SEERR_PERMISSIONS;

const variants: [Dialect, boolean, boolean][] = [
  ["sqlite", false, true],
  ["postgres", true, postgresAvailable && redisAvailable],
];

for (const [dialect, redis, available] of variants) {
  describe.skipIf(!available)(`Seerr webhook on ${dialect} + ${redis ? "redis" : "memory"}`, () => {
    let t: TestApp;
    let seerr: FakeSeerr;
    let admin: Browser;
    let alice: Browser;
    let auth = "";
    const logLines: string[] = [];
    const hook = { url: "" };

    async function deliver(body: unknown, authorization: string | null = auth): Promise<Response> {
      return t.request("/api/v1/webhooks/seerr", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "axios/1.7.9",
          ...(authorization !== null ? { authorization } : {}),
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    }
    const send = (type: Parameters<FakeSeerr["webhookPayload"]>[0], id?: number) =>
      deliver(seerr.webhookPayload(type, id));
    const kinds = async (b: Browser) =>
      (await listNotifications(t.deps.database, b.user.id, { limit: 100 })).items.map((n) => n.kind);

    beforeAll(async () => {
      const spec = await loadSeerrSpec();
      seerr = startFakeSeerr({
        apiKey: API_KEY,
        ...(spec ? { spec } : {}),
        users: [
          seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: P.ADMIN }),
          seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: P.REQUEST }),
          seerrUser({ id: 7, displayName: "Stranger", plexId: 7777, permissions: P.REQUEST }),
        ],
        movies: [
          seerrMovie({ id: 27205, title: "Inception" }),
          seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
          seerrMovie({ id: 680, title: "Pulp Fiction", releaseDate: "1994-09-10" }),
        ],
        shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
      });
      t = await createTestApp({ dialect, redis, logLines });
      await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
      await savePlexIntegration(t.deps, {
        url: "http://plex.invalid:32400",
        token: "t",
        machineIdentifier: "machine-1",
      });
      admin = await signIn(t, await givenUser(t.deps, { role: "admin", plexId: 9001 }));
      alice = await signIn(t, await givenUser(t.deps, { displayName: "Alice", plexId: 5002 }));
      hook.url = `${ORIGIN}/api/v1/webhooks/seerr`;
    });

    afterAll(async () => {
      expect(seerr.specErrors).toEqual([]);
      await t.close();
      await seerr.stop();
    });

    test("the Seerr card shows the setup: URL, Authorization header, the template; the secret is stored encrypted", async () => {
      const first = await (await admin.get("/admin/integrations")).text();
      expect(first).toContain("Status updates from Seerr (webhook)");
      expect(first).toContain("none yet: make a secret below");
      // The secret is shown once, in the answer that made it, like an API token.
      const made = await admin.post("/admin/integrations/seerr/webhook-secret");
      expect(made.status).toBe(200);
      const html = await made.text();
      expect(html).toContain(hook.url);
      expect(html).toContain("it is not shown again");
      const header = /(Bearer [A-Za-z0-9_-]{43})/.exec(html)?.[1];
      expect(header).toBeDefined();
      auth = header!;
      expect(html).toContain("&quot;{{media}}&quot;: {");
      expect(html).toContain("{{request_id}}");
      expect(html).toContain("Nothing received from Seerr yet");
      const stored = await t.deps.database.db.select().from(t.deps.database.tables.settings);
      const row = stored.find((s) => s.key === "seerr.webhook_secret")!;
      expect(row.secret).toBe(true);
      expect(row.value).not.toContain(auth.slice(7));
      // Afterwards the page shows only its start.
      const later = await (await admin.get("/admin/integrations")).text();
      expect(later).not.toContain(auth);
      expect(later).toContain(`${auth.slice(0, 11)}…`);
      // Members never see it.
      expect((await alice.get("/admin/integrations")).status).toBe(403);
    });

    test("a wrong or missing secret is 401 and stores nothing; a malformed body is 400; Seerr's test button is 200", async () => {
      const made = await alice.post("/title/movie/27205/request", { is4k: "0" }, { "hx-request": "true" });
      expect(made.status).toBe(200);
      const row = (await listMediaRequests(t.deps.database, { userId: alice.user.id })).items[0]!;
      seerr.setRequestStatus(row.seerrRequestId, 2);
      const payload = seerr.webhookPayload("MEDIA_APPROVED", row.seerrRequestId);
      expect((await deliver(payload, null)).status).toBe(401);
      expect((await deliver(payload, "Bearer nope")).status).toBe(401);
      expect((await deliver(payload, `${auth}x`)).status).toBe(401);
      expect((await findMediaRequestById(t.deps.database, row.id))?.status).toBe("pending");

      expect((await deliver("{not json")).status).toBe(400);
      const noType = await deliver({ subject: "x" });
      expect(noType.status).toBe(400);
      expect(((await noType.json()) as { error: string }).error).toContain("notification_type");
      // Every value is a string in Seerr's template: a number is not what Seerr sends.
      const numbers = await deliver({ ...payload, request: { request_id: row.seerrRequestId } });
      expect(numbers.status).toBe(400);
      expect((await findMediaRequestById(t.deps.database, row.id))?.status).toBe("pending");

      const probe = await send("TEST_NOTIFICATION");
      expect(probe.status).toBe(200);
      expect(await probe.json()).toEqual({ ok: true, kind: "test" });
      expect(await (await admin.get("/admin/integrations")).text()).toContain(
        "Last delivery from Seerr: TEST_NOTIFICATION",
      );
    });

    test("approved in Seerr: the request follows and the requester is told once, however often Seerr repeats it", async () => {
      const row = (await listMediaRequests(t.deps.database, { userId: alice.user.id })).items[0]!;
      const res = await send("MEDIA_APPROVED", row.seerrRequestId);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, kind: "followed", changed: 1 });
      expect((await findMediaRequestById(t.deps.database, row.id))?.status).toBe("approved");
      expect((await send("MEDIA_APPROVED", row.seerrRequestId)).status).toBe(200);
      expect((await kinds(alice)).filter((k) => k === "request.approved")).toHaveLength(1);

      seerr.setAvailability("movie", 27205, 5);
      const ready = await send("MEDIA_AVAILABLE", row.seerrRequestId);
      expect(await ready.json()).toMatchObject({ changed: 1 });
      expect((await findMediaRequestById(t.deps.database, row.id))?.status).toBe("available");
      // A late approval does not move it back.
      await send("MEDIA_APPROVED", row.seerrRequestId);
      expect((await findMediaRequestById(t.deps.database, row.id))?.status).toBe("available");
      expect((await kinds(alice)).filter((k) => k === "request.available")).toHaveLength(1);
      const mine = await (await alice.get("/requests")).text();
      expect(mine).toContain("Available");
      // "Watch in Plex" on the available request: the same app.plex.tv link the title page gives, by Seerr's ratingKey.
      const wire = seerr.mediaRequests().find((r) => r.id === row.seerrRequestId)!;
      const ratingKey = String((wire.media as { ratingKey: string }).ratingKey);
      expect((await findMediaRequestById(t.deps.database, row.id))?.plexRatingKey).toBe(ratingKey);
      const watch = plexWebUrl("machine-1", ratingKey).replaceAll("&", "&amp;");
      const item = new RegExp(`<li id="r-${row.id}"[\\s\\S]*?</li>`).exec(mine)![0];
      expect(item).toContain(`href="${watch}"`);
      expect(item).toContain("Watch in Plex");
      expect(await (await alice.get("/title/movie/27205")).text()).toContain(`href="${watch}"`);
    });

    test("a request made in Seerr's own UI by a MediaNest user appears; a stranger's is accepted and not stored", async () => {
      const id = seerr.addRequest({ type: "tv", tmdbId: 1396, userId: 2, seasons: [2] });
      const res = await send("MEDIA_PENDING", id);
      expect(await res.json()).toMatchObject({ adopted: 1 });
      const adopted = (await listMediaRequests(t.deps.database, { userId: alice.user.id })).items.find(
        (r) => r.seerrRequestId === id,
      )!;
      expect(adopted).toMatchObject({ source: "seerr", title: "Breaking Bad", seasons: [2], status: "pending" });
      // Not available: no Plex link on the requester's list.
      const pending = new RegExp(`<li id="r-${adopted.id}"[\\s\\S]*?</li>`).exec(
        await (await alice.get("/requests")).text(),
      )![0];
      expect(pending).not.toContain("Watch in Plex");
      expect(await (await admin.get("/admin/requests")).text()).toContain("made in Seerr");
      const before = (await listMediaRequests(t.deps.database, {})).total;
      const stranger = seerr.addRequest({ type: "movie", tmdbId: 680, userId: 7 });
      expect((await send("MEDIA_PENDING", stranger)).status).toBe(200);
      expect((await listMediaRequests(t.deps.database, {})).total).toBe(before);
    });

    test("declined and failed go to the requester; with Seerr not answering the delivery's own word is taken", async () => {
      const id = seerr.addRequest({ type: "movie", tmdbId: 603, userId: 2 });
      await send("MEDIA_PENDING", id);
      seerr.setRequestStatus(id, 3);
      await send("MEDIA_DECLINED", id);
      const declined = (await listMediaRequests(t.deps.database, { userId: alice.user.id })).items.find(
        (r) => r.seerrRequestId === id,
      )!;
      expect(declined.status).toBe("declined");
      expect(await kinds(alice)).toContain("request.declined");

      const bb = (await listMediaRequests(t.deps.database, { userId: alice.user.id })).items.find(
        (r) => r.tmdbId === 1396,
      )!;
      const payload = seerr.webhookPayload("MEDIA_FAILED", bb.seerrRequestId);
      seerr.failNext(500);
      expect((await deliver(payload)).status).toBe(200);
      expect((await findMediaRequestById(t.deps.database, bb.id))?.status).toBe("failed");
      expect(await kinds(alice)).toContain("request.failed");
    });

    test("an unknown notification type is accepted, ignored and logged once", async () => {
      const issue = { ...seerr.webhookPayload("TEST_NOTIFICATION"), notification_type: "ISSUE_CREATED" };
      for (let i = 0; i < 3; i++) {
        const res = await deliver(issue);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ ok: true, kind: "ignored" });
      }
      expect(logLines.filter((l) => l.includes("ISSUE_CREATED"))).toHaveLength(1);
    });

    test("a new secret makes the old header fail", async () => {
      const res = await admin.post("/admin/integrations/seerr/webhook-secret");
      expect(res.status).toBe(200);
      expect((await send("TEST_NOTIFICATION")).status).toBe(401);
      auth = /(Bearer [A-Za-z0-9_-]{43})/.exec(await res.text())![1]!;
      expect((await send("TEST_NOTIFICATION")).status).toBe(200);
    });
  });
}
