// "Notify me about" on /account/notifications: a kind switched off makes no notification-center entry, no toast on
// the live stream and no outbound delivery; every kind is on until switched off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { notify } from "../src/services/notifications";
import { createNotificationTarget } from "../src/services/outbound-notifications";
import { listRecentDeliveries } from "../src/store/notification-targets";
import { listNotifications } from "../src/store/notifications";
import { findUserById } from "../src/store/users";
import { startReceiver, type FakeReceiver } from "./fakes/outbound-receiver";
import { type Browser, createTestApp, givenUser, ORIGIN, signIn, type TestApp } from "./helpers/test-app";

/** Read SSE messages from a streaming response until `until` matches or the time runs out. */
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

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

let t: TestApp;
let receiver: FakeReceiver;
let maria: Browser;
let admin: Browser;

beforeAll(async () => {
  t = await createTestApp({ env: { MEDIANEST_OUTBOUND_PRIVATE: "everyone" }, logLines: [] });
  receiver = startReceiver();
  admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
  maria = await signIn(t, await givenUser(t.deps, { displayName: "Maria" }));
  await createNotificationTarget(t.deps, maria.user, {
    name: "My hook",
    events: ["request.approved", "request.available"],
    target: { kind: "webhook", config: { url: `${receiver.url}/hook` } },
  });
});

afterAll(async () => {
  await t.close();
  await receiver.stop();
});

const titles = async (userId: string) =>
  (await listNotifications(t.deps.database, userId, { limit: 100 })).items.map((n) => n.title);
const deliveredTitles = () => receiver.requests.map((r) => String((r.body as { title?: unknown }).title));

describe("notify me about", () => {
  test("the page shows a switch per kind a person can get, every one on at first", async () => {
    const html = await (await maria.get("/account/notifications")).text();
    expect(html).toContain("Notify me about");
    expect(html).toContain('action="/account/notification-switches"');
    for (const id of ["request.approved", "request.available", "download.finished", "announcement"])
      expect(html).toMatch(new RegExp(`name="on" value="${id.replace(".", "\\.")}" checked`));
    // Admin-only kinds are not offered to members; the admin's page offers them.
    expect(html).not.toContain('value="admin.request_pending"');
    expect(await (await admin.get("/account/notifications")).text()).toContain(
      'name="on" value="admin.request_pending" checked',
    );
  });

  test("a kind switched off makes no entry, no toast and no delivery; the others still arrive everywhere", async () => {
    const on = ["request.available", "request.declined", "request.failed", "request.removed", "announcement"];
    const res = await maria.post("/account/notification-switches", { on }, { "hx-request": "true" });
    expect(res.status).toBe(200);
    const card = await res.text();
    expect(card).toContain("Saved.");
    expect(card).toContain('name="on" value="request.approved"/>');
    expect(card).toContain('name="on" value="request.available" checked');
    const stored = (await findUserById(t.deps.database, maria.user.id))!.mutedNotifications;
    expect(stored).toContain("request.approved");
    expect(stored).toContain("download.finished");

    const stream = await maria.get("/events");
    const reading = readStream(stream, (s) => s.includes("Ready to watch: Dune"));
    await Bun.sleep(50);
    const muted = await notify(t.deps, maria.user.id, {
      kind: "request.approved",
      title: "Request approved: Dune",
      body: "Seerr is fetching it now.",
      link: "/title/movie/438631",
    });
    expect(muted).toBeUndefined();
    await notify(t.deps, maria.user.id, {
      kind: "request.available",
      title: "Ready to watch: Dune",
      body: "It is in Plex now.",
      link: "/title/movie/438631",
    });
    const sse = await reading;
    expect(sse).toContain("Ready to watch: Dune");
    expect(sse).not.toContain("Request approved: Dune");

    expect(await titles(maria.user.id)).toEqual(["Ready to watch: Dune"]);
    expect(await (await maria.get("/notifications")).text()).not.toContain("Request approved: Dune");
    await until("the delivery of the kind left on", () => deliveredTitles().includes("Ready to watch: Dune"));
    expect(deliveredTitles()).not.toContain("Request approved: Dune");
    const events = (await listRecentDeliveries(t.deps.database, 100)).map((d) => d.delivery.event);
    expect(events).toEqual(["request.available"]);
  });

  test("switched on again, the kind arrives again; without JavaScript the form redirects back", async () => {
    const res = await maria.post("/account/notification-switches", { on: ["request.approved", "request.available"] });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account/notifications?saved=switches");
    expect(await (await maria.get("/account/notifications?saved=switches")).text()).toContain(
      "Saved which notifications you get.",
    );
    await notify(t.deps, maria.user.id, { kind: "request.approved", title: "Request approved: Arrival", body: "x" });
    expect(await titles(maria.user.id)).toContain("Request approved: Arrival");
    await until("the delivery", () => deliveredTitles().includes("Request approved: Arrival"));
    // Everything off is allowed too: nothing reaches the person.
    expect((await maria.post("/account/notification-switches", {}, { "hx-request": "true" })).status).toBe(200);
    await notify(t.deps, maria.user.id, { kind: "announcement", title: "Plex restarts tonight", body: "x" });
    expect(await titles(maria.user.id)).not.toContain("Plex restarts tonight");
    // Tests are not switchable: "Send test" and test notifications always arrive.
    await notify(t.deps, maria.user.id, { kind: "test", title: "Testing", body: "x" });
    expect(await titles(maria.user.id)).toContain("Testing");
  });

  test("an unknown kind is a 422 naming the field; a forged form changes nothing; signed out is sent to sign in", async () => {
    const before = (await findUserById(t.deps.database, maria.user.id))!.mutedNotifications;
    const bad = await maria.post("/account/notification-switches", { on: ["request.approved", "nuke"] });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Unknown kind of notification.");
    const forged = await t.request("/account/notification-switches", {
      method: "POST",
      headers: { cookie: maria.cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: "on=request.approved",
    });
    expect(forged.status).toBe(403);
    const anonymous = await t.request("/account/notification-switches", {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: "on=request.approved",
    });
    expect(anonymous.status).not.toBe(200);
    expect((await findUserById(t.deps.database, maria.user.id))!.mutedNotifications).toEqual(before);
  });
});
