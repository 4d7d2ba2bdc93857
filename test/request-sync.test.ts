import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { syncRequests } from "../src/services/request-sync";
import { findMediaRequestById, findSeerrLink, listMediaRequests, upsertSeerrLink } from "../src/store/media-requests";
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
import { type Browser, createTestApp, type Dialect, givenUser, signIn, type TestApp } from "./helpers/test-app";

const API_KEY = "seerr-sync-key";
const P = SEERR_PERMISSIONS;

const variants: [Dialect, boolean, boolean][] = [
  ["sqlite", false, true],
  ["postgres", true, postgresAvailable && redisAvailable],
];

for (const [dialect, redis, available] of variants) {
  describe.skipIf(!available)(`request sync on ${dialect} + ${redis ? "redis" : "memory"}`, () => {
    let t: TestApp;
    let seerr: FakeSeerr;
    let admin: Browser;
    let alice: Browser;
    const kinds = async (b: Browser) =>
      (await listNotifications(t.deps.database, b.user.id, { limit: 100 })).items.map((n) => n.kind);
    const byTmdb = async (b: Browser, tmdbId: number) =>
      (await listMediaRequests(t.deps.database, { userId: b.user.id })).items.find((r) => r.tmdbId === tmdbId);

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
      t = await createTestApp({ dialect, redis, logLines: [] });
      await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
      admin = await signIn(t, await givenUser(t.deps, { role: "admin", plexId: 9001 }));
      alice = await signIn(t, await givenUser(t.deps, { displayName: "Alice", plexId: 5002 }));
      for (const id of [27205, 603]) {
        const res = await alice.post(`/title/movie/${id}/request`, { is4k: "0" }, { "hx-request": "true" });
        expect(res.status).toBe(200);
      }
    });

    afterAll(async () => {
      expect(seerr.specErrors).toEqual([]);
      await t.close();
      await seerr.stop();
    });

    test("states changed in Seerr, requests made there and requests removed there reach MediaNest and the requester", async () => {
      const inception = (await byTmdb(alice, 27205))!;
      const matrix = (await byTmdb(alice, 603))!;
      seerr.setRequestStatus(inception.seerrRequestId, 2);
      seerr.removeRequest(matrix.seerrRequestId);
      const made = seerr.addRequest({ type: "tv", tmdbId: 1396, userId: 2, seasons: [1, 2] });
      seerr.addRequest({ type: "movie", tmdbId: 680, userId: 7 });

      const page = await (await admin.get("/admin/jobs")).text();
      expect(page).toContain("request-sync");
      const res = await admin.post("/admin/jobs/request-sync/run", {}, { "hx-request": "true" });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("request-sync finished.");

      expect((await findMediaRequestById(t.deps.database, inception.id))?.status).toBe("approved");
      expect((await findMediaRequestById(t.deps.database, matrix.id))?.status).toBe("deleted");
      const show = (await byTmdb(alice, 1396))!;
      expect(show).toMatchObject({ seerrRequestId: made, source: "seerr", seasons: [1, 2], title: "Breaking Bad" });
      expect((await listMediaRequests(t.deps.database, {})).items.some((r) => r.tmdbId === 680)).toBe(false);
      const told = await kinds(alice);
      expect(told).toContain("request.approved");
      expect(told).toContain("request.removed");
      const list = await (await alice.get("/requests")).text();
      expect(list).toContain("Removed in Seerr");
      expect(list).toContain("Breaking Bad");
    });

    test("a second run changes and tells nothing", async () => {
      const before = (await kinds(alice)).length;
      const report = await syncRequests(t.deps);
      expect(report).toMatchObject({ changed: 0, adopted: 0, removed: 0, unlinked: 1 });
      expect((await kinds(alice)).length).toBe(before);
    });

    test("a link to a Seerr user that no longer exists is dropped; Seerr down fails the run readably", async () => {
      const carol = await givenUser(t.deps, { displayName: "Carol" });
      await upsertSeerrLink(t.deps.database, {
        userId: carol.id,
        seerrUserId: 99,
        seerrName: "gone",
        how: "manual",
        linkedAt: new Date(),
      });
      const report = await syncRequests(t.deps);
      expect(report?.linksDropped).toBe(1);
      expect(await findSeerrLink(t.deps.database, carol.id)).toBeUndefined();
      expect(await findSeerrLink(t.deps.database, alice.user.id)).toBeDefined();

      seerr.failNext(500);
      const res = await admin.post("/admin/jobs/request-sync/run", {}, { "hx-request": "true" });
      expect(res.status).toBeLessThan(500);
      expect(await res.text()).toContain("request-sync");
    });
  });
}
