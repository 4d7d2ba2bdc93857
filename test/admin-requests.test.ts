import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { saveSeerrIntegration } from "../src/services/integrations";
import { findMediaRequestById, listMediaRequests, type MediaRequest } from "../src/store/media-requests";
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

const API_KEY = "seerr-admin-requests-key";
const P = SEERR_PERMISSIONS;

async function readStream(res: Response, until: (text: string) => boolean, ms = 3000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !until(text)) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text;
}

function pendingBadge(html: string): string | undefined {
  return /id="pending-requests"[^>]*>([^<]*)</.exec(html)?.[1];
}

const variants: [Dialect, boolean, boolean][] = [
  ["sqlite", false, true],
  ["postgres", true, postgresAvailable && redisAvailable],
];

for (const [dialect, redis, available] of variants) {
  describe.skipIf(!available)(`admin requests on ${dialect} + ${redis ? "redis" : "memory"}`, () => {
    let t: TestApp;
    let seerr: FakeSeerr;
    let admin: Browser;
    let alice: Browser;
    let bob: Browser;
    const mine = async (b: Browser) => (await listMediaRequests(t.deps.database, { userId: b.user.id })).items;
    const byTmdb = async (b: Browser, tmdbId: number) => (await mine(b)).find((r) => r.tmdbId === tmdbId)!;

    beforeAll(async () => {
      const spec = await loadSeerrSpec();
      seerr = startFakeSeerr({
        apiKey: API_KEY,
        ...(spec ? { spec } : {}),
        users: [
          seerrUser({ id: 1, displayName: "owner", plexId: 9001, permissions: P.ADMIN }),
          seerrUser({ id: 2, displayName: "Alice", plexId: 5002, permissions: P.REQUEST }),
          seerrUser({ id: 3, displayName: "Bob", plexId: 5003, permissions: P.REQUEST }),
        ],
        movies: [
          seerrMovie({ id: 27205, title: "Inception" }),
          seerrMovie({ id: 603, title: "The Matrix", releaseDate: "1999-03-31" }),
          seerrMovie({ id: 680, title: "Pulp Fiction", releaseDate: "1994-09-10" }),
          seerrMovie({ id: 11, title: "Star Wars", releaseDate: "1977-05-25" }),
        ],
        shows: [seerrShow({ id: 1396, name: "Breaking Bad", seasonCount: 3 })],
      });
      t = await createTestApp({ dialect, redis, logLines: [] });
      await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: API_KEY });
      admin = await signIn(t, await givenUser(t.deps, { role: "admin", displayName: "Olivia", plexId: 9001 }));
      alice = await signIn(t, await givenUser(t.deps, { displayName: "Alice", plexId: 5002 }));
      bob = await signIn(t, await givenUser(t.deps, { displayName: "Bob", plexId: 5003 }));
      for (const [b, path, form] of [
        [alice, "/title/movie/27205/request", { is4k: "0" }],
        [alice, "/title/movie/603/request", { is4k: "0" }],
        [alice, "/title/tv/1396/request", { seasons: ["2"] }],
        [bob, "/title/movie/680/request", { is4k: "0" }],
        [bob, "/title/movie/11/request", { is4k: "0" }],
      ] as [Browser, string, Record<string, string | string[]>][]) {
        const res = await b.post(path, form, { "hx-request": "true" });
        expect(res.status).toBe(200);
      }
    });

    afterAll(async () => {
      expect(seerr.specErrors).toEqual([]);
      await t.close();
      await seerr.stop();
    });

    function decisions(): { id: number; action: string }[] {
      return seerr.requests
        .map((r) => /^\/api\/v1\/request\/(\d+)\/(approve|decline)$/.exec(r.path))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ id: Number(m[1]), action: m[2]! }));
    }

    test("every request, filtered by state and by person; a pending count in the admins' navigation only", async () => {
      const page = await admin.get("/admin/requests");
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const title of ["Inception (2010)", "The Matrix (1999)", "Breaking Bad", "Pulp Fiction (1994)"])
        expect(html).toContain(title);
      expect(html).toContain("5 requests wait for approval.");
      expect(pendingBadge(html)).toBe("5");
      expect(html).toContain('href="/admin/requests"');
      expect(html).toContain("Show, season 2");

      const alicesOnly = await (await admin.get(`/admin/requests?user=${alice.user.id}`)).text();
      expect(alicesOnly).toContain("Inception (2010)");
      expect(alicesOnly).not.toContain("Pulp Fiction");
      expect(alicesOnly).toContain("3 requests");
      const declined = await (await admin.get("/admin/requests?status=declined")).text();
      expect(declined).toContain("No request matches");
      // Nonsense filters read as none, never a 500.
      expect((await admin.get("/admin/requests?status=bogus&page=-3")).status).toBe(200);

      const member = await (await alice.get("/requests")).text();
      expect(member).not.toContain('id="pending-requests"');
      expect(member).not.toContain("Approvals");
      expect((await alice.get("/admin/requests")).status).toBe(403);
      expect((await alice.post("/admin/requests", { approve: "x" })).status).toBe(403);
    });

    test("approve one: sent to Seerr, the requester told, the count goes down live on the admins' stream", async () => {
      const stream = await admin.get("/events");
      const reading = readStream(stream, (s) => s.includes("mn-admin-requests"));
      await Bun.sleep(100);
      const inception = await byTmdb(alice, 27205);
      const res = await admin.post("/admin/requests", {
        approve: inception.id,
        back: "/admin/requests?status=pending",
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin/requests?status=pending&decided=approve&n=1");
      expect(decisions().at(-1)).toEqual({ id: inception.seerrRequestId, action: "approve" });
      const after = await findMediaRequestById(t.deps.database, inception.id);
      expect(after?.status).toBe("processing");
      const live = await reading;
      expect(live).toContain('hx-target="#pending-requests"');
      expect(live).toMatch(/hx-swap="innerHTML">4</);
      const back = await (await admin.get("/admin/requests?status=pending&decided=approve&n=1")).text();
      expect(back).toContain("Approved 1 request.");
      expect(pendingBadge(back)).toBe("4");
      const told = await (await alice.get("/notifications")).text();
      expect(told).toContain("Request approved: Inception (2010)");
    });

    test("decline several at once with a reason: Seerr declines each, the requester reads the reason", async () => {
      const matrix = await byTmdb(alice, 603);
      const bb = await byTmdb(alice, 1396);
      const res = await admin.post("/admin/requests", {
        ids: [matrix.id, bb.id],
        action: "decline",
        reason: "We have it on disc <already>",
      });
      expect(res.status).toBe(303);
      expect(decisions().slice(-2)).toEqual([
        { id: matrix.seerrRequestId, action: "decline" },
        { id: bb.seerrRequestId, action: "decline" },
      ]);
      for (const r of [matrix, bb]) {
        const now = (await findMediaRequestById(t.deps.database, r.id)) as MediaRequest;
        expect(now.status).toBe("declined");
        expect(now.declineReason).toBe("We have it on disc <already>");
      }
      const list = await (await alice.get("/requests")).text();
      expect(list).toContain("Reason: We have it on disc &lt;already&gt;");
      const told = await (await alice.get("/notifications")).text();
      expect(told).toContain("Request declined: The Matrix (1999)");
      expect(told).toContain("Reason: We have it on disc &lt;already&gt;");
      // A second decision on what is decided already changes nothing and says why.
      const again = await admin.post("/admin/requests", { decline: matrix.id });
      expect(again.status).toBe(409);
      expect(await again.text()).toContain("Not declined: The Matrix (1999): it is declined, not pending.");
    });

    test("bad forms are 422 naming the field; a request gone from Seerr is marked removed and its requester told", async () => {
      expect((await admin.post("/admin/requests", { action: "approve" })).status).toBe(422);
      const noAction = await admin.post("/admin/requests", { ids: ["a"] });
      expect(noAction.status).toBe(422);
      expect(await noAction.text()).toContain("action: Choose approve or decline.");
      const long = await admin.post("/admin/requests", { decline: "a", reason: "x".repeat(501) });
      expect(long.status).toBe(422);
      expect(await long.text()).toContain("reason: Use at most 500 characters.");
      const unknown = await admin.post("/admin/requests", { approve: "no-such-id" });
      expect(unknown.status).toBe(409);

      const pulp = await byTmdb(bob, 680);
      const wars = await byTmdb(bob, 11);
      seerr.removeRequest(pulp.seerrRequestId);
      const res = await admin.post("/admin/requests", { ids: [pulp.id, wars.id], action: "approve" });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("Approved: Star Wars (1977).");
      expect(html).toContain("Not approved: Pulp Fiction (1994): Seerr no longer has it (removed there).");
      expect((await findMediaRequestById(t.deps.database, pulp.id))?.status).toBe("deleted");
      const told = await (await bob.get("/notifications")).text();
      expect(told).toContain("Request removed: Pulp Fiction (1994)");

      // Seerr down: a readable refusal, the row left pending.
      const late = await bob.post("/title/tv/1396/request", { seasons: ["1"] }, { "hx-request": "true" });
      expect(late.status).toBe(200);
      const bb1 = await byTmdb(bob, 1396);
      seerr.failNext(500);
      const down = await admin.post("/admin/requests", { approve: bb1.id });
      expect(down.status).toBe(409);
      expect(await down.text()).toContain("Not approved: Breaking Bad");
      expect((await findMediaRequestById(t.deps.database, bb1.id))?.status).toBe("pending");
    });
  });
}
