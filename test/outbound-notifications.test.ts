import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPostgres, type Database } from "../src/db/database";
import { notify } from "../src/services/notifications";
import {
  BACKOFF_MS,
  createNotificationTarget,
  MAX_ATTEMPTS,
  sendTestNotification,
} from "../src/services/outbound-notifications";
import { sendEmail } from "../src/integrations/outbound/email";
import type { TargetConfig } from "../src/integrations/outbound/types";
import {
  claimDueDeliveries,
  claimDueDeliveriesSkipLocked,
  finishDeliveryAttempt,
  insertNotificationDeliveries,
  listNotificationTargetsByUser,
  type NotificationDelivery,
  type NotificationTarget,
} from "../src/store/notification-targets";
import type { User } from "../src/store/users";
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";
import { closedPort, startReceiver, startSmtp, type FakeReceiver } from "./fakes/outbound-receiver";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "./fakes/tls-cert";
import { postgresAvailable } from "./helpers/services";
import { createTestApp, givenUser, signIn, type Browser, type Dialect, type TestApp } from "./helpers/test-app";

const JOB = "notification-deliveries";

/** Run the delivery worker to completion (waiting out a run that a kick already started). */
async function drain(t: TestApp): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const outcome = await t.deps.jobs.runNow(JOB);
    if (outcome === "ok") return;
    if (outcome === "failed") throw new Error("the delivery worker failed; see its log");
    await Bun.sleep(5);
  }
  throw new Error("the delivery worker never got to run");
}

async function allDeliveries(t: TestApp): Promise<NotificationDelivery[]> {
  const { db, tables } = t.deps.database;
  return db.select().from(tables.notificationDeliveries);
}

/** Make every waiting delivery due now, as if its backoff had passed. */
async function makeDue(t: TestApp): Promise<void> {
  const { db, tables } = t.deps.database;
  await db
    .update(tables.notificationDeliveries)
    .set({ nextAttemptAt: new Date(Date.now() - 1000) })
    .where(eq(tables.notificationDeliveries.status, "pending"));
}

function addTarget(
  t: TestApp,
  user: User,
  target: TargetConfig,
  events: string[] = ["request.available", "announcement", "test"],
  name = `${target.kind} target`,
) {
  return createNotificationTarget(t.deps, user, { name, events, target });
}

async function onlyTarget(t: TestApp, user: User): Promise<NotificationTarget> {
  const targets = await listNotificationTargetsByUser(t.deps.database, user.id);
  expect(targets).toHaveLength(1);
  return targets[0]!;
}

const htmx = { "hx-request": "true" };

/** Store a target as it is, past the form's checks: as if saved under another policy, or before a change. */
async function smuggleTarget(
  t: TestApp,
  user: User,
  target: TargetConfig,
  name = "smuggled",
): Promise<NotificationTarget> {
  const row: NotificationTarget = {
    id: crypto.randomUUID(),
    userId: user.id,
    kind: target.kind,
    name,
    configEnc: t.deps.secretBox.encrypt(JSON.stringify(target.config)),
    events: ["test"],
    enabled: true,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  await t.deps.database.db.insert(t.deps.database.tables.notificationTargets).values(row);
  return row;
}

describe("outbound notifications: senders and pages (SQLite)", () => {
  let t: TestApp;
  let receiver: FakeReceiver;
  let user: User;
  let b: Browser;
  const logLines: string[] = [];

  beforeEach(async () => {
    logLines.length = 0;
    // Receivers here listen on loopback, as a LAN ntfy would: members may use private addresses in these tests.
    t = await createTestApp({
      env: { MEDIANEST_PUBLIC_URL: "https://media.example", MEDIANEST_OUTBOUND_PRIVATE: "everyone" },
      logLines,
    });
    await givenUser(t.deps, { role: "admin" });
    user = await givenUser(t.deps, { displayName: "Ana Member" });
    b = await signIn(t, user);
    receiver = startReceiver();
  });
  afterEach(async () => {
    await receiver.stop();
    await t.close();
  });

  test("webhook: notify() queues a delivery and the worker POSTs {event, title, body, link, user, sentAt} with the Authorization header", async () => {
    const created = await b.post("/account/new-target/webhook", {
      name: "Home Assistant",
      url: `${receiver.url}/hook/s3cr3t-path?key=abc`,
      authorization: "Bearer hook-token-123",
      events: ["request.available", "announcement"],
    });
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/account/notifications?saved=added");
    const target = await onlyTarget(t, user);

    const before = Date.now();
    await notify(t.deps, user.id, {
      kind: "request.available",
      title: "Dune is ready",
      body: "Dune (2021) is on Plex.",
      link: "/requests/42",
    });
    await notify(t.deps, user.id, {
      kind: "download.failed",
      title: "Not subscribed",
      body: "This kind is not sent to the webhook.",
    });
    await drain(t);

    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/hook/s3cr3t-path");
    expect(req.query).toEqual({ key: "abc" });
    expect(req.headers.authorization).toBe("Bearer hook-token-123");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toMatch(/^MediaNest\//);
    const body = req.body as Record<string, unknown>;
    expect(body).toEqual({
      event: "request.available",
      title: "Dune is ready",
      body: "Dune (2021) is on Plex.",
      link: "https://media.example/requests/42",
      user: { id: user.id, username: user.username, displayName: "Ana Member" },
      sentAt: expect.any(String),
    });
    expect(Date.parse(body.sentAt as string)).toBeGreaterThanOrEqual(before - 1000);

    const [d] = await allDeliveries(t);
    expect(d).toMatchObject({
      targetId: target.id,
      event: "request.available",
      status: "sent",
      attempts: 1,
      lastError: null,
    });
    expect(d!.sentAt).toBeInstanceOf(Date);

    // Turned off: nothing more is queued.
    const off = await b.post(`/account/notifications/${target.id}`, {
      name: "Home Assistant",
      events: ["request.available"],
    });
    expect(off.status).toBe(303);
    await notify(t.deps, user.id, { kind: "request.available", title: "Another", body: "x" });
    await drain(t);
    expect(receiver.requests).toHaveLength(1);
    expect(await allDeliveries(t)).toHaveLength(1);

    const page = await (await b.get("/account/notifications")).text();
    expect(page).toContain("Home Assistant");
    expect(page).toContain("Delivered ");
    expect(page).toContain('<span class="pill pill-maintenance">off</span>');
  });

  test("a notification queued while the worker is busy is sent by that same run, without waiting for the next tick", async () => {
    await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } }, ["announcement"]);
    receiver.answers.push({ status: 204, delayMs: 300 });
    // The first notify() kicks the worker, which is then busy with the slow first send.
    await notify(t.deps, user.id, { kind: "announcement", title: "First", body: "x" });
    await Bun.sleep(50);
    expect(receiver.requests).toHaveLength(1);
    // This kick finds the worker running and is skipped; the running worker must pick the row up anyway.
    await notify(t.deps, user.id, { kind: "announcement", title: "Second", body: "y" });
    expect(await t.deps.jobs.runNow(JOB)).toBe("skipped");
    for (let i = 0; i < 200 && receiver.requests.length < 2; i++) await Bun.sleep(10);
    expect(receiver.requests.map((r) => (r.body as { title: string }).title)).toEqual(["First", "Second"]);
    for (let i = 0; i < 200 && (await allDeliveries(t)).some((d) => d.status !== "sent"); i++) await Bun.sleep(10);
    expect((await allDeliveries(t)).map((d) => d.status)).toEqual(["sent", "sent"]);
  });

  test("Discord: one embed with title, description and url; no url when the link is not absolute", async () => {
    await addTarget(t, user, { kind: "discord", config: { url: `${receiver.url}/api/webhooks/123/discord-token` } });
    await notify(t.deps, user.id, {
      kind: "request.available",
      title: "Arrival is ready",
      body: "Arrival (2016) is on Plex.",
      link: "/requests/7",
    });
    await notify(t.deps, user.id, { kind: "announcement", title: "x".repeat(300), body: "No link here." });
    await drain(t);
    expect(receiver.requests).toHaveLength(2);
    const [first, second] = receiver.requests.toSorted(
      (a, b) =>
        (a.body as { embeds: { title: string }[] }).embeds[0]!.title.length -
        (b.body as { embeds: { title: string }[] }).embeds[0]!.title.length,
    );
    expect(first!.method).toBe("POST");
    expect(first!.path).toBe("/api/webhooks/123/discord-token");
    expect(first!.headers["content-type"]).toBe("application/json");
    expect(first!.body).toEqual({
      embeds: [
        {
          title: "Arrival is ready",
          description: "Arrival (2016) is on Plex.",
          url: "https://media.example/requests/7",
        },
      ],
    });
    // notify() keeps 200 characters of a title; Discord's own limit is 256.
    expect(second!.body).toEqual({ embeds: [{ title: "x".repeat(200), description: "No link here." }] });
  });

  test("ntfy: POST to server/topic with the message as body, Title, Click and Tags headers, and the token as Bearer", async () => {
    await addTarget(t, user, {
      kind: "ntfy",
      config: { server: `${receiver.url}/ntfy`, topic: "mn-topic_1", token: "tk_ntfy_secret" },
    });
    await notify(t.deps, user.id, {
      kind: "request.available",
      title: "Amélie est prête",
      body: "Amélie (2001) is on Plex.",
      link: "/requests/9",
    });
    await addTarget(t, await givenUser(t.deps), { kind: "ntfy", config: { server: receiver.url, topic: "plain" } }, [
      "announcement",
    ]);
    await drain(t);
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/ntfy/mn-topic_1");
    expect(req.body).toBe("Amélie (2001) is on Plex.");
    // Non-ASCII titles travel as an RFC 2047 encoded word, which ntfy decodes.
    const m = /^=\?UTF-8\?B\?(.+)\?=$/.exec(req.headers.title!);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1]!, "base64").toString("utf8")).toBe("Amélie est prête");
    expect(req.headers.click).toBe("https://media.example/requests/9");
    expect(req.headers.tags).toBe("tada");
    expect(req.headers.authorization).toBe("Bearer tk_ntfy_secret");
  });

  test("email: sent over SMTP with AUTH; From, To, Subject and body arrive; wrong credentials are reported", async () => {
    const smtp = await startSmtp({ auth: { user: "mailer", pass: "smtp-pass-987" } });
    try {
      const created = await b.post("/account/new-target/email", {
        name: "My inbox",
        host: "127.0.0.1",
        port: String(smtp.port),
        security: "none",
        user: "mailer",
        password: "smtp-pass-987",
        from: "medianest@example.com",
        to: "ana@example.com",
        events: ["request.available"],
      });
      expect(created.status).toBe(303);
      await notify(t.deps, user.id, {
        kind: "request.available",
        title: "Heat is ready",
        body: "Heat (1995) is on Plex.",
        link: "/requests/3",
      });
      await drain(t);
      expect(smtp.messages).toHaveLength(1);
      const mail = smtp.messages[0]!;
      expect(mail.user).toBe("mailer");
      expect(mail.from).toBe("medianest@example.com");
      expect(mail.to).toEqual(["ana@example.com"]);
      expect(mail.raw).toMatch(/^From: medianest@example\.com\r$/m);
      expect(mail.raw).toMatch(/^To: ana@example\.com\r$/m);
      expect(mail.raw).toMatch(/^Subject: Heat is ready\r$/m);
      expect(mail.raw).toContain("\r\n\r\nHeat (1995) is on Plex.\r\n\r\nhttps://media.example/requests/3\r\n");
      const [d] = await allDeliveries(t);
      expect(d!.status).toBe("sent");

      const ok = await b.post(`/account/notifications/${(await onlyTarget(t, user)).id}/test`, {}, htmx);
      expect(await ok.text()).toMatch(/Delivered \(250 in \d+ ms\)/);
      expect(smtp.messages).toHaveLength(2);
      expect(smtp.messages[1]!.raw).toMatch(/^Subject: MediaNest test notification\r$/m);

      await b.post("/account/new-target/email", {
        name: "Wrong password",
        host: "127.0.0.1",
        port: String(smtp.port),
        security: "none",
        user: "mailer",
        password: "not-the-password",
        from: "medianest@example.com",
        to: "ana@example.com",
        events: ["test"],
      });
      const wrong = (await listNotificationTargetsByUser(t.deps.database, user.id)).find(
        (x) => x.name === "Wrong password",
      )!;
      const res = await b.post(`/account/notifications/${wrong.id}/test`, {}, htmx);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("The mail server rejected the credentials (535 Invalid username or password)");
      expect(smtp.messages).toHaveLength(2);
    } finally {
      await smtp.stop();
    }
  });

  test("send test shows the exact outcome inline and never a 500: delivered, refused, 401, connection refused, timeout", async () => {
    const ok = await addTarget(
      t,
      user,
      { kind: "webhook", config: { url: `${receiver.url}/ok` } },
      ["test"],
      "OK hook",
    );
    const res = await b.post(`/account/notifications/${ok.id}/test`, {}, htmx);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(
      new RegExp(
        `^<div id="test-result-${ok.id}" role="status" aria-live="polite" class="alert alert-ok">Delivered \\(204 in \\d+ ms\\)</div>`,
      ),
    );
    expect(receiver.requests.at(-1)!.body).toMatchObject({
      event: "test",
      title: "MediaNest test notification",
      link: "https://media.example/account/notifications",
    });

    const denied = startReceiver(401);
    const discord = await addTarget(
      t,
      user,
      { kind: "discord", config: { url: `${denied.url}/api/webhooks/1/bad` } },
      ["test"],
      "Discord",
    );
    const r401 = await (await b.post(`/account/notifications/${discord.id}/test`, {}, htmx)).text();
    expect(r401).toContain("alert-error");
    expect(r401).toContain("Discord rejected the credentials (status 401): Invalid Webhook Token");
    await denied.stop();

    const broken = startReceiver(500);
    const failing = await addTarget(t, user, { kind: "webhook", config: { url: broken.url } }, ["test"], "Broken");
    expect(await (await b.post(`/account/notifications/${failing.id}/test`, {}, htmx)).text()).toContain(
      "The webhook refused the request (status 500)</div>",
    );
    await broken.stop();

    const nobody = await addTarget(
      t,
      user,
      { kind: "ntfy", config: { server: `http://127.0.0.1:${await closedPort()}`, topic: "t" } },
      ["test"],
      "Nobody",
    );
    const refused = await b.post(`/account/notifications/${nobody.id}/test`, {}, htmx);
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain("ntfy could not be reached (connection refused)");

    // Without htmx the whole page comes back with the result in place.
    const full = await b.post(`/account/notifications/${ok.id}/test`);
    expect(full.status).toBe(200);
    const page = await full.text();
    expect(page).toContain("<!DOCTYPE html>");
    expect(page).toMatch(/Delivered \(204 in \d+ ms\)/);

    // The worker and the test button share the sender; a receiver that never answers is cut off at the timeout.
    receiver.answers.push("hang");
    const slow = await sendTestNotification(t.deps, user, ok, 300);
    expect(slow).toEqual({ ok: false, text: "The webhook did not answer (timeout after 0.3 s)" });
  });

  test("a Send test leaves its trace: the target shows the test's outcome and time, the admin page counts a failed one", async () => {
    const admin = await givenUser(t.deps, { role: "admin" });
    const ab = await signIn(t, admin);
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const target = await addTarget(t, user, { kind: "webhook", config: { url: nowhere } }, ["test"], "Flaky hook");
    expect(await (await b.get("/account/notifications")).text()).toContain("Nothing sent yet");

    const res = await b.post(`/account/notifications/${target.id}/test`, {}, htmx);
    const fragment = await res.text();
    expect(fragment).toContain("The webhook could not be reached (connection refused)</div>");
    // The card's "Last delivery" line changes in the same answer.
    expect(fragment).toMatch(
      new RegExp(
        `<hx-partial hx-target="#last-delivery-${target.id}" hx-swap="innerHTML"><span><span class="pill pill-down">Test failed <time datetime="[^"]+" title="[^"]+ UTC" data-local="text">\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC</time></span> <span class="field-error">The webhook could not be reached \\(connection refused\\)</span></span></hx-partial>`,
      ),
    );
    const page = await (await b.get("/account/notifications")).text();
    expect(page).not.toContain("Nothing sent yet");
    expect(page).toContain("Test failed");

    const outbound = await (await ab.get("/admin/notifications")).text();
    expect(outbound).toContain("1 failed · 0 waiting · 0 sending · 0 delivered");
    expect(outbound).toMatch(
      /<tr data-status="failed">.*Flaky hook.*<span class="mono">test<\/span>.*connection refused/s,
    );
    const [d] = await allDeliveries(t);
    expect(d).toMatchObject({ event: "test", status: "failed", attempts: 1, targetId: target.id });
    // A test is not queued: the worker has nothing to retry unless an admin asks for it.
    await drain(t);
    expect((await allDeliveries(t))[0]!.attempts).toBe(1);

    // A later test that works replaces the failure as the target's latest outcome.
    await t.deps.database.db
      .update(t.deps.database.tables.notificationTargets)
      .set({ configEnc: t.deps.secretBox.encrypt(JSON.stringify({ url: receiver.url })) })
      .where(eq(t.deps.database.tables.notificationTargets.id, target.id));
    await Bun.sleep(5);
    expect(await (await b.post(`/account/notifications/${target.id}/test`, {}, htmx)).text()).toContain(
      '<span class="pill pill-up">Test delivered',
    );
    expect(await (await b.get("/account/notifications")).text()).toContain("Test delivered");
    expect(await (await ab.get("/admin/notifications")).text()).toContain(
      "1 failed · 0 waiting · 0 sending · 1 delivered",
    );

    // Retry now on the failed test sends the test again, through the worker.
    const failed = (await allDeliveries(t)).find((x) => x.status === "failed")!;
    expect((await ab.post(`/admin/notifications/${failed.id}/retry`)).status).toBe(303);
    await drain(t);
    expect((await allDeliveries(t)).map((x) => x.status)).toEqual(["sent", "sent"]);
    expect(receiver.requests.at(-1)!.body).toMatchObject({ event: "test", title: "MediaNest test notification" });
  });

  test("secrets are stored encrypted and never appear in pages", async () => {
    const smtp = { host: "127.0.0.1", port: "2525", security: "starttls", from: "a@example.com", to: "b@example.com" };
    const secrets = [
      "s3cr3t-webhook-path",
      "Bearer hook-auth-value",
      "discord-token-XYZ",
      "tk_ntfy_token_value",
      "secret-topic-xyz",
      "smtp-password-value",
    ];
    expect(
      (
        await b.post("/account/new-target/webhook", {
          name: "Hook",
          url: `https://hooks.example/s3cr3t-webhook-path`,
          authorization: "Bearer hook-auth-value",
          events: "announcement",
        })
      ).status,
    ).toBe(303);
    expect(
      (
        await b.post("/account/new-target/discord", {
          name: "Disco",
          url: "https://discord.com/api/webhooks/1/discord-token-XYZ",
          events: "announcement",
        })
      ).status,
    ).toBe(303);
    expect(
      (
        await b.post("/account/new-target/ntfy", {
          name: "Phone",
          server: "https://ntfy.sh",
          topic: "secret-topic-xyz",
          token: "tk_ntfy_token_value",
          events: "announcement",
        })
      ).status,
    ).toBe(303);
    expect(
      (
        await b.post("/account/new-target/email", {
          name: "Mail",
          ...smtp,
          user: "me",
          password: "smtp-password-value",
          events: "announcement",
        })
      ).status,
    ).toBe(303);

    const raw = t.deps.database.sqlite!.query("select kind, config_enc from notification_targets").all() as {
      kind: string;
      config_enc: string;
    }[];
    expect(raw).toHaveLength(4);
    for (const row of raw) {
      expect(row.config_enc).toMatch(/^v1:/);
      for (const s of [...secrets, "hooks.example", "discord.com", "ntfy.sh", "127.0.0.1"])
        expect(row.config_enc).not.toContain(s);
    }

    const page = await (await b.get("/account/notifications")).text();
    for (const name of ["Hook", "Disco", "Phone", "Mail"]) expect(page).toContain(name);
    for (const s of secrets) expect(page).not.toContain(s);
    expect(page).toContain("https://hooks.example/…");
    expect(page).toContain("https://discord.com/…");
    expect(page).toContain("se…");
    expect(page).toContain("set (hidden)");

    // A form sent back with errors does not echo the secret fields either.
    const bad = await b.post("/account/new-target/discord", {
      name: "",
      url: "https://discord.com/api/webhooks/1/discord-token-XYZ",
      events: "announcement",
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).not.toContain("discord-token-XYZ");
    const badMail = await b.post("/account/new-target/email", {
      name: "Mail",
      ...smtp,
      port: "0",
      user: "me",
      password: "smtp-password-value",
      events: "announcement",
    });
    expect(badMail.status).toBe(422);
    expect(await badMail.text()).not.toContain("smtp-password-value");
  });

  test("another user cannot see, change, test or delete my targets", async () => {
    const mine = await addTarget(
      t,
      user,
      { kind: "webhook", config: { url: `${receiver.url}/mine` } },
      ["announcement"],
      "Ana's hook",
    );
    const other = await signIn(t, await givenUser(t.deps));
    expect(await (await other.get("/account/notifications")).text()).not.toContain("Ana&#39;s hook");
    expect(
      (await other.post(`/account/notifications/${mine.id}`, { name: "Taken", events: "announcement", enabled: "on" }))
        .status,
    ).toBe(404);
    expect((await other.post(`/account/notifications/${mine.id}/test`, {}, htmx)).status).toBe(404);
    expect((await other.post(`/account/notifications/${mine.id}/delete`)).status).toBe(404);
    expect(receiver.requests).toHaveLength(0);
    const still = await onlyTarget(t, user);
    expect(still).toMatchObject({ name: "Ana's hook", enabled: true, events: ["announcement"] });

    // The owner can.
    const renamed = await b.post(
      `/account/notifications/${mine.id}`,
      { name: "Renamed", events: ["announcement", "test"], enabled: "on" },
      htmx,
    );
    expect(renamed.status).toBe(200);
    expect(await renamed.text()).toContain("Saved.");
    expect(await onlyTarget(t, user)).toMatchObject({ name: "Renamed", events: ["announcement", "test"] });
    const deleted = await b.post(`/account/notifications/${mine.id}/delete`);
    expect(deleted.status).toBe(303);
    expect(await listNotificationTargetsByUser(t.deps.database, user.id)).toHaveLength(0);
  });

  test("bad form input gets 422 with the field named; nothing is stored", async () => {
    const cases: [string, Record<string, string | string[]>, string, string][] = [
      [
        "webhook",
        { name: "x", url: "ftp://example.com/hook", events: "announcement" },
        "url",
        "Enter an http:// or https:// URL.",
      ],
      [
        "webhook",
        { name: "x", url: "javascript:alert(1)", events: "announcement" },
        "url",
        "Enter an http:// or https:// URL.",
      ],
      [
        "webhook",
        { name: "x", url: "https://user:pw@example.com/", events: "announcement" },
        "url",
        "Leave user names and passwords out of the URL.",
      ],
      [
        "webhook",
        { name: "x", url: "https://example.com/", authorization: "a\r\nX-Evil: 1", events: "announcement" },
        "authorization",
        "Use a single line.",
      ],
      ["webhook", { name: "x", url: "https://example.com/" }, "events", "Choose at least one event."],
      [
        "discord",
        { name: "", url: "https://discord.com/api/webhooks/1/x", events: "announcement" },
        "name",
        "Give it a name.",
      ],
      [
        "ntfy",
        { name: "x", server: "https://ntfy.sh", topic: "bad topic!", events: "announcement" },
        "topic",
        "Use 1 to 64 letters, digits, dashes or underscores.",
      ],
      [
        "email",
        {
          name: "x",
          host: "smtp.example.com",
          port: "99999",
          security: "tls",
          from: "a@example.com",
          to: "b@example.com",
          events: "announcement",
        },
        "port",
        "Use a port between 1 and 65535.",
      ],
      [
        "email",
        {
          name: "x",
          host: "smtp.example.com",
          port: "465",
          security: "tls",
          from: "not-an-address",
          to: "b@example.com",
          events: "announcement",
        },
        "from",
        "Enter the sender address.",
      ],
      [
        "email",
        {
          name: "x",
          host: "smtp.example.com",
          port: "465",
          security: "ssl3",
          from: "a@example.com",
          to: "b@example.com",
          events: "announcement",
        },
        "security",
        "Choose how to encrypt the connection.",
      ],
      [
        "email",
        {
          name: "x",
          host: "smtp.example.com",
          port: "465",
          security: "tls",
          password: "pw",
          from: "a@example.com",
          to: "b@example.com",
          events: "announcement",
        },
        "user",
        "Enter the user name that goes with the password.",
      ],
      [
        "webhook",
        { name: "x", url: "https://example.com/", events: ["announcement", "made.up"] },
        "events",
        "Unknown event.",
      ],
      [
        "webhook",
        { name: "x", url: "https://example.com/", events: ["admin.user_created"] },
        "events",
        "Only administrators can receive administrator events.",
      ],
    ];
    for (const [kind, form, field, message] of cases) {
      const res = await b.post(`/account/new-target/${kind}`, form);
      const html = await res.text();
      expect([kind, field, res.status]).toEqual([kind, field, 422]);
      expect(html).toContain(message);
      if (field !== "events" && field !== "security")
        expect(html).toMatch(new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`));
    }
    expect(await listNotificationTargetsByUser(t.deps.database, user.id)).toHaveLength(0);
    expect((await b.get("/account/new-target/sms")).status).toBe(404);
    expect((await b.post("/account/new-target/sms", { name: "x" })).status).toBe(404);

    const target = await addTarget(
      t,
      user,
      { kind: "webhook", config: { url: receiver.url } },
      ["announcement"],
      "Keep",
    );
    const bad = await b.post(`/account/notifications/${target.id}`, { name: "", events: "announcement" }, htmx);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Give it a name.");
    const admin = await b.post(
      `/account/notifications/${target.id}`,
      { name: "Keep", events: "admin.delivery_failed" },
      htmx,
    );
    expect(admin.status).toBe(422);
    expect(await admin.text()).toContain("Only administrators can receive administrator events.");
    expect(await onlyTarget(t, user)).toMatchObject({ name: "Keep", events: ["announcement"] });
  });

  test("admin events: only admins may choose them, and a new account reaches the admins' targets", async () => {
    const memberForm = await (await b.get("/account/new-target/webhook")).text();
    expect(memberForm).not.toContain("admin.user_created");
    const admin = await givenUser(t.deps, { role: "admin", displayName: "Owner" });
    const ab = await signIn(t, admin);
    const adminForm = await (await ab.get("/account/new-target/webhook")).text();
    expect(adminForm).toContain('value="admin.user_created"');
    expect(adminForm).toContain('value="admin.delivery_failed"');
    expect(
      (
        await ab.post("/account/new-target/webhook", {
          name: "Ops",
          url: `${receiver.url}/ops`,
          events: ["admin.user_created"],
        })
      ).status,
    ).toBe(303);

    const created = await ab.post("/admin/new-user", {
      username: "newbie",
      displayName: "New Person",
      password: "long-enough-pw-1",
      role: "user",
    });
    expect(created.status).toBe(303);
    await drain(t);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.body).toMatchObject({
      event: "admin.user_created",
      title: "New account: New Person",
      user: { id: admin.id },
    });
  });

  test("notify() still stores and publishes the notification when queueing outbound deliveries fails", async () => {
    await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } });
    t.deps.database.sqlite!.exec("drop table notification_deliveries");
    const n = (await notify(t.deps, user.id, { kind: "announcement", title: "Still here", body: "x" }))!;
    expect(n.title).toBe("Still here");
    const page = await (await b.get("/notifications")).text();
    expect(page).toContain("Still here");
    expect(
      logLines.some((l) => l.includes("outbound: unable to queue deliveries") && l.includes("notification_deliveries")),
    ).toBe(true);
  });
});

const dialects: [Dialect, boolean][] = [
  ["sqlite", true],
  ["postgres", postgresAvailable],
];

for (const [dialect, available] of dialects) {
  describe.skipIf(!available)(`outbound deliveries: retries, failures and claims on ${dialect}`, () => {
    let t: TestApp;
    let receiver: FakeReceiver;
    let user: User;

    beforeEach(async () => {
      t = await createTestApp({ dialect, logLines: [], env: { MEDIANEST_OUTBOUND_PRIVATE: "everyone" } });
      user = await givenUser(t.deps, { username: "ana" });
      receiver = startReceiver();
    });
    afterEach(async () => {
      await receiver.stop();
      await t.close();
    });

    test("a receiver answering 500 twice then 200: three attempts with growing backoff, then delivered", async () => {
      receiver.answers.push(500, 500);
      await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } });
      await notify(t.deps, user.id, { kind: "request.available", title: "Ready", body: "x" });

      await drain(t);
      let [d] = await allDeliveries(t);
      expect(d).toMatchObject({
        status: "pending",
        attempts: 1,
        lastError: "The webhook refused the request (status 500)",
      });
      const wait1 = d!.nextAttemptAt.getTime() - Date.now();
      expect(wait1).toBeGreaterThan(BACKOFF_MS[0] - 5000);
      expect(wait1).toBeLessThanOrEqual(BACKOFF_MS[0]);

      // Not due yet: the worker leaves it alone.
      await drain(t);
      expect(receiver.requests).toHaveLength(1);

      await makeDue(t);
      await drain(t);
      [d] = await allDeliveries(t);
      expect(d).toMatchObject({ status: "pending", attempts: 2 });
      const wait2 = d!.nextAttemptAt.getTime() - Date.now();
      expect(wait2).toBeGreaterThan(BACKOFF_MS[1] - 5000);
      expect(wait2).toBeLessThanOrEqual(BACKOFF_MS[1]);
      expect(wait2).toBeGreaterThan(wait1);

      await makeDue(t);
      await drain(t);
      [d] = await allDeliveries(t);
      expect(d).toMatchObject({ status: "sent", attempts: 3, lastError: null });
      expect(receiver.requests).toHaveLength(3);
      expect(new Set(receiver.requests.map((r) => JSON.stringify({ ...(r.body as object), sentAt: 0 }))).size).toBe(1);
    });

    test("a receiver that always fails: failed after every attempt, first on /admin/notifications, Retry now delivers it", async () => {
      receiver.status = 503;
      const admin = await givenUser(t.deps, { role: "admin" });
      const ab = await signIn(t, admin);
      const good = startReceiver();
      try {
        await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } }, ["announcement"], "Dead hook");
        await addTarget(t, admin, { kind: "webhook", config: { url: good.url } }, ["announcement"], "Good hook");
        await notify(t.deps, admin.id, { kind: "announcement", title: "Fine", body: "x" });
        await notify(t.deps, user.id, { kind: "announcement", title: "Doomed", body: "x" });
        const waits: number[] = [];
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          await makeDue(t);
          await drain(t);
          const d = (await allDeliveries(t)).find((x) => x.event === "announcement" && x.status !== "sent")!;
          expect(d.attempts).toBe(attempt);
          if (attempt < MAX_ATTEMPTS) {
            expect(d.status).toBe("pending");
            waits.push(d.nextAttemptAt.getTime() - Date.now());
          } else {
            expect(d.status).toBe("failed");
            expect(d.lastError).toBe(
              `The webhook refused the request (status 503) (gave up after ${MAX_ATTEMPTS} attempts)`,
            );
          }
        }
        expect(receiver.requests).toHaveLength(MAX_ATTEMPTS);
        expect(waits).toHaveLength(BACKOFF_MS.length);
        waits.forEach((w, i) => expect(Math.abs(w - BACKOFF_MS[i]!)).toBeLessThan(5000));

        // Admins hear about it (in MediaNest; their targets could take the admin.delivery_failed event too).
        const { db, tables } = t.deps.database;
        const alerts = await db
          .select()
          .from(tables.notifications)
          .where(eq(tables.notifications.kind, "admin.delivery_failed"));
        expect(alerts.map((a) => a.userId)).toEqual([admin.id]);
        expect(alerts[0]!.body).toContain("@ana's webhook target gave up");

        const page = await (await ab.get("/admin/notifications")).text();
        expect(page).toContain("1 failed");
        const failedAt = page.indexOf('data-status="failed"');
        const sentAt = page.indexOf('data-status="sent"');
        expect(failedAt).toBeGreaterThan(-1);
        expect(sentAt).toBeGreaterThan(failedAt);
        expect(page).toContain("Dead hook");
        expect(page).toContain("@ana");
        expect(page).toContain("(gave up after 6 attempts)");

        const failed = (await allDeliveries(t)).find((x) => x.status === "failed")!;
        receiver.status = 200;
        const retry = await ab.post(`/admin/notifications/${failed.id}/retry`, {}, htmx);
        expect(retry.status).toBe(200);
        expect(await retry.text()).toContain("Queued");
        await drain(t);
        const after = (await allDeliveries(t)).find((x) => x.id === failed.id)!;
        expect(after).toMatchObject({ status: "sent", attempts: MAX_ATTEMPTS + 1, lastError: null });
        expect((await ab.post(`/admin/notifications/${failed.id}/retry`, {}, htmx)).status).toBe(409);
        expect(
          (await ab.post(`/admin/notifications/00000000-0000-0000-0000-000000000000/retry`, {}, htmx)).status,
        ).toBe(404);
      } finally {
        await good.stop();
      }
    });

    test("a refusal that retrying cannot fix (4xx) fails at once, with the receiver's reason", async () => {
      receiver.status = 404;
      await addTarget(t, user, { kind: "discord", config: { url: `${receiver.url}/api/webhooks/1/gone` } });
      await notify(t.deps, user.id, { kind: "announcement", title: "x", body: "y" });
      await drain(t);
      const [d] = await allDeliveries(t);
      expect(d).toMatchObject({
        status: "failed",
        attempts: 1,
        lastError:
          "Discord refused the request (status 404): Invalid Webhook Token (not retried: the receiver refused it)",
      });
    });

    test("claims: a lapsed lease is taken over, a live one is not, and the first worker's late outcome is fenced out", async () => {
      const target = await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } });
      const now = Date.now();
      const row = (id: string, status: NotificationDelivery["status"], next: number) => ({
        id,
        targetId: target.id,
        event: "announcement",
        payload: {
          title: "t",
          body: "b",
          link: null,
          user: { id: user.id, username: user.username, displayName: user.displayName },
        },
        status,
        attempts: 1,
        nextAttemptAt: new Date(next),
        lastError: null,
        createdAt: new Date(now),
        sentAt: null,
      });
      await insertNotificationDeliveries(t.deps.database, [
        row("lapsed", "sending", now - 1000),
        row("leased", "sending", now + 60_000),
        row("later", "pending", now + 60_000),
        row("done", "sent", now - 1000),
        row("broken", "failed", now - 1000),
      ]);
      const claimed = await claimDueDeliveries(t.deps.database, {
        now: new Date(now),
        leaseUntil: new Date(now + 120_000),
        limit: 10,
      });
      expect(claimed.map((c) => c.delivery.id)).toEqual(["lapsed"]);
      expect(claimed[0]!.delivery).toMatchObject({ status: "sending", attempts: 2 });
      expect(claimed[0]!.target.id).toBe(target.id);
      // The worker that held the lapsed lease (attempt 1) finishes late: its outcome no longer counts.
      expect(await finishDeliveryAttempt(t.deps.database, "lapsed", 1, { status: "sent", at: new Date() })).toBe(false);
      expect(await finishDeliveryAttempt(t.deps.database, "lapsed", 2, { status: "sent", at: new Date() })).toBe(true);
    });

    test("two claimers running at once never get the same delivery", async () => {
      const target = await addTarget(t, user, { kind: "webhook", config: { url: receiver.url } });
      const now = Date.now();
      const total = dialect === "postgres" ? 120 : 300;
      const rows = Array.from({ length: total }, (_, i) => ({
        id: `d-${String(i).padStart(4, "0")}`,
        targetId: target.id,
        event: "announcement",
        payload: {},
        status: "pending" as const,
        attempts: 0,
        nextAttemptAt: new Date(now - 1000 - i),
        lastError: null,
        createdAt: new Date(now),
        sentAt: null,
      }));
      for (let i = 0; i < rows.length; i += 50)
        await insertNotificationDeliveries(t.deps.database, rows.slice(i, i + 50));

      const check = async (runs: string[][]) => {
        const all = runs.flat();
        expect(all).toHaveLength(total);
        expect(new Set(all).size).toBe(total);
        const statuses = await allDeliveries(t);
        expect(statuses.every((d) => d.status === "sending" && d.attempts === 1)).toBe(true);
      };
      if (dialect === "postgres") {
        // Two separate pools, as two replicas would have, each claiming from several connections at once.
        const url = t.config.databaseUrl!;
        const pools: Database[] = [await openPostgres(url, { max: 4 }), await openPostgres(url, { max: 4 })];
        try {
          const worker = async (db: Database) => {
            const got: string[] = [];
            for (;;) {
              const n = new Date();
              const ids = await claimDueDeliveriesSkipLocked(db, {
                now: n,
                leaseUntil: new Date(n.getTime() + 600_000),
                limit: 3,
              });
              if (ids.length === 0) return got;
              got.push(...ids);
            }
          };
          const runs = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => worker(pools[i % 2]!)));
          await check(runs);
          expect(runs.filter((r) => r.length > 0).length).toBeGreaterThan(1);

          // A row another transaction holds is skipped, not waited for.
          await t.deps.database.db
            .update(t.deps.database.tables.notificationDeliveries)
            .set({ status: "pending", nextAttemptAt: new Date(now - 1000) });
          await pools[0]!.pg!.begin(async (tx) => {
            const held = await tx<
              { id: string }[]
            >`select id from notification_deliveries order by next_attempt_at limit 5 for update`;
            const n = new Date();
            const other = await claimDueDeliveriesSkipLocked(pools[1]!, {
              now: n,
              leaseUntil: new Date(n.getTime() + 600_000),
              limit: 5,
            });
            expect(other).toHaveLength(5);
            expect(other.filter((id) => held.some((h) => h.id === id))).toEqual([]);
          });
        } finally {
          await Promise.all(pools.map((p) => p.close()));
        }
      } else {
        // SQLite in one process runs one statement at a time; two processes on one file really compete.
        const path = join(t.config.dataDir, "medianest.db");
        const barrier = mkdtempSync(join(tmpdir(), "medianest-claim-"));
        const procs = [0, 1].map((i) =>
          Bun.spawn(["bun", join(import.meta.dir, "helpers/claim-worker.ts"), path, barrier, String(i), "2"], {
            stdout: "pipe",
            stderr: "pipe",
          }),
        );
        const runs = await Promise.all(
          procs.map(async (p) => {
            const [out, err, code] = await Promise.all([
              new Response(p.stdout).text(),
              new Response(p.stderr).text(),
              p.exited,
            ]);
            if (code !== 0) throw new Error(`claim worker exited ${code}: ${err}`);
            return JSON.parse(out.trim().split("\n").at(-1)!) as string[];
          }),
        );
        rmSync(barrier, { recursive: true, force: true });
        // Both took part, or the test proved nothing about concurrency.
        expect(runs.every((r) => r.length > 0)).toBe(true);
        await check(runs);
      }
    }, 30_000);
  });
}

describe("outbound destinations by default (MEDIANEST_OUTBOUND_PRIVATE=admins)", () => {
  let t: TestApp;
  let receiver: FakeReceiver;
  afterEach(async () => {
    await receiver?.stop();
    await t?.close();
  });

  test("a member cannot point a target at a private or local address; an admin can; redirects are not followed", async () => {
    // The refused redirect is a failed delivery, logged at warn: captured, not printed.
    t = await createTestApp({ logLines: [] });
    receiver = startReceiver();
    const admin = await givenUser(t.deps, { role: "admin" });
    const member = await givenUser(t.deps);
    const mb = await signIn(t, member);
    const refused = await mb.post("/account/new-target/webhook", {
      name: "inside",
      url: `${receiver.url}/hook`,
      events: ["test"],
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain(
      "127.0.0.1 is not an allowed address: only an administrator can send notifications to an address that is not public.",
    );
    const ntfy = await mb.post("/account/new-target/ntfy", {
      name: "lan ntfy",
      server: "http://localhost:8090",
      topic: "x",
      events: ["test"],
    });
    expect(ntfy.status).toBe(422);
    expect(await ntfy.text()).toContain("localhost is not an allowed address");
    expect(receiver.requests).toHaveLength(0);

    // A target that became private after it was saved (or was saved under another policy) is refused at send time.
    const { db, tables } = t.deps.database;
    await db.insert(tables.notificationTargets).values({
      id: crypto.randomUUID(),
      userId: member.id,
      kind: "webhook",
      name: "smuggled",
      configEnc: t.deps.secretBox.encrypt(JSON.stringify({ url: `${receiver.url}/hook` })),
      events: ["test"],
      enabled: true,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    await notify(t.deps, member.id, { kind: "test", title: "x", body: "y" });
    await drain(t);
    const [delivery] = await allDeliveries(t);
    expect(delivery!.status).toBe("failed");
    expect(delivery!.lastError).toBe("The webhook was not called: 127.0.0.1 is not an allowed address");
    expect(receiver.requests).toHaveLength(0);

    // An admin's own target may use the LAN; a redirect from the receiver is reported, not followed.
    const other = startReceiver();
    let redirected = 0;
    const redirector = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => {
        redirected++;
        return new Response(null, { status: 307, headers: { location: `${other.url}/elsewhere` } });
      },
    });
    try {
      const ab = await signIn(t, admin);
      expect(
        (
          await ab.post("/account/new-target/webhook", {
            name: "lan hook",
            url: `http://127.0.0.1:${redirector.port}/hook`,
            events: ["test"],
          })
        ).status,
      ).toBe(303);
      const target = (await onlyTarget(t, admin))!;
      const test1 = await ab.post(`/account/notifications/${target.id}/test`, {}, { "hx-request": "true" });
      expect(await test1.text()).toContain("307");
      expect(redirected).toBe(1);
      expect(other.requests).toHaveLength(0);
    } finally {
      await redirector.stop(true);
      await other.stop();
    }
  });
});

describe("outbound destinations: every spelling of this machine is refused for a member", () => {
  let t: TestApp;
  let receiver: FakeReceiver;
  const logLines: string[] = [];
  beforeEach(async () => {
    logLines.length = 0;
    t = await createTestApp({ logLines });
    receiver = startReceiver();
    await givenUser(t.deps, { role: "admin" });
  });
  afterEach(async () => {
    await receiver.stop();
    await t.close();
  });

  /** Save (refused), then smuggle in, test and deliver a target: each attempt must end at "not allowed". */
  async function refusedEverywhere(
    kind: "webhook" | "discord" | "ntfy" | "email",
    form: Record<string, string>,
    config: TargetConfig,
    shown: string,
    displayName: string,
  ) {
    // A member of their own for each case: tests are rate-limited per user.
    const member = await givenUser(t.deps);
    const mb = await signIn(t, member);
    const saved = await mb.post(`/account/new-target/${kind}`, { name: "inside", events: ["test"], ...form });
    expect(saved.status).toBe(422);
    expect(await saved.text()).toContain(
      `${shown} is not an allowed address: only an administrator can send notifications to an address that is not public.`,
    );

    const target = await smuggleTarget(t, member, config);
    const tested = await (await mb.post(`/account/notifications/${target.id}/test`, {}, htmx)).text();
    // No reachability oracle: not "Delivered", "could not be reached", "host not found" nor a timeout.
    expect(tested).toStartWith(
      `<div id="test-result-${target.id}" role="status" aria-live="polite" class="alert alert-error">${displayName} was not called: ${shown} is not an allowed address</div>`,
    );

    await notify(t.deps, member.id, { kind: "test", title: "x", body: "y" });
    await drain(t);
    const queued = (await allDeliveries(t)).filter((d) => d.targetId === target.id && d.attempts === 1);
    expect(queued.map((d) => [d.status, d.lastError])).toEqual([
      ["failed", `${displayName} was not called: ${shown} is not an allowed address`],
      ["failed", `${displayName} was not called: ${shown} is not an allowed address`],
    ]);
  }

  test("IPv4-mapped IPv6 in every spelling, localhost with a trailing dot, numeric IPv4: webhook, Discord and ntfy", async () => {
    const port = receiver.port;
    const cases: [string, string][] = [
      [`http://[::ffff:127.0.0.1]:${port}/hook`, "::ffff:7f00:1"],
      [`http://[0:0:0:0:0:ffff:7f00:1]:${port}/hook`, "::ffff:7f00:1"],
      [`http://[::FFFF:7F00:1]:${port}/hook`, "::ffff:7f00:1"],
      [`http://localhost.:${port}/hook`, "localhost"],
      [`http://LOCALHOST:${port}/hook`, "localhost"],
      [`http://0x7f000001:${port}/hook`, "127.0.0.1"],
      [`http://2130706433:${port}/hook`, "127.0.0.1"],
      [`http://127.1:${port}/hook`, "127.0.0.1"],
      [`http://0177.0.0.1:${port}/hook`, "127.0.0.1"],
      [`http://[::1]:${port}/hook`, "::1"],
      ["http://[::ffff:a9fe:a9fe]/latest/meta-data/", "::ffff:a9fe:a9fe"],
    ];
    for (const [url, shown] of cases) {
      await refusedEverywhere("webhook", { url }, { kind: "webhook", config: { url } }, shown, "The webhook");
    }
    const url = `http://[::ffff:7f00:1]:${port}/api/webhooks/1/x`;
    await refusedEverywhere("discord", { url }, { kind: "discord", config: { url } }, "::ffff:7f00:1", "Discord");
    const server = `http://localhost.:${port}`;
    await refusedEverywhere(
      "ntfy",
      { server, topic: "alerts" },
      { kind: "ntfy", config: { server, topic: "alerts" } },
      "localhost",
      "ntfy",
    );
    expect(receiver.requests).toHaveLength(0);
  });

  test("an SMTP host spelled 0x7f000001 or 2130706433 gets no connection at all", async () => {
    const smtp = await startSmtp();
    try {
      for (const host of ["0x7f000001", "2130706433", "127.1", "localhost."]) {
        const mail = { host, port: smtp.port, security: "none" as const, from: "a@example.com", to: "b@example.com" };
        await refusedEverywhere(
          "email",
          { ...mail, port: String(smtp.port) },
          { kind: "email", config: mail },
          host === "localhost." ? "localhost" : "127.0.0.1",
          "The mail server",
        );
      }
      expect(smtp.connections).toBe(0);
      expect(smtp.messages).toHaveLength(0);
    } finally {
      await smtp.stop();
    }
  });

  test("a name that does not resolve is refused for a member, saying only that it is not allowed", async () => {
    const url = "http://hooks.nowhere.invalid/hook";
    await refusedEverywhere(
      "webhook",
      { url },
      { kind: "webhook", config: { url } },
      "hooks.nowhere.invalid",
      "The webhook",
    );
    // What was found stays in the log, for the admins.
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === "outbound: delivery failed");
    expect(logged).toMatchObject({ level: "warn", refusal: expect.stringContaining("lookup failed") });
  });

  test("an admin may still use these addresses, and hears why a send failed", async () => {
    const admin = await givenUser(t.deps, { role: "admin" });
    const ab = await signIn(t, admin);
    const url = `http://[::ffff:7f00:1]:${receiver.port}/hook`;
    expect((await ab.post("/account/new-target/webhook", { name: "lan", url, events: ["test"] })).status).toBe(303);
    const target = await onlyTarget(t, admin);
    expect(await (await ab.post(`/account/notifications/${target.id}/test`, {}, htmx)).text()).toMatch(
      /Delivered \(204 in \d+ ms\)/,
    );
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.host).toBe(`[::ffff:7f00:1]:${receiver.port}`);
    const gone = await smuggleTarget(t, admin, { kind: "webhook", config: { url: "http://hooks.nowhere.invalid/" } });
    expect(await (await ab.post(`/account/notifications/${gone.id}/test`, {}, htmx)).text()).toContain(
      "The webhook could not be reached (host not found)</div>",
    );
  });
});

describe("email connects to the address that was checked", () => {
  test("plain SMTP: a name resolved once to this machine's SMTP server; a later lookup could not move it", async () => {
    const smtp = await startSmtp();
    const answers = [["127.0.0.1"], ["203.0.113.9"]];
    const lookups: string[] = [];
    try {
      const r = await sendEmail(
        {
          destination: {
            allowPrivate: true,
            resolve: async (name) => {
              lookups.push(name);
              return answers.shift()!;
            },
          },
          timeoutMs: 5000,
        },
        { host: "Mail.Test.", port: smtp.port, security: "none", from: "a@example.com", to: "b@example.com" },
        {
          event: "test",
          title: "t",
          body: "b",
          link: null,
          user: { id: "u", username: "u", displayName: "U" },
          sentAt: new Date(),
        },
      );
      expect(r.status).toBe(250);
      expect(smtp.messages).toHaveLength(1);
      expect(lookups).toEqual(["mail.test"]);
    } finally {
      await smtp.stop();
    }
  });

  test("TLS: the name is presented (SNI) and the certificate is checked against it, not the address", async () => {
    const names: string[] = [];
    const server = new SMTPServer({
      secure: true,
      key: TEST_TLS_KEY,
      cert: TEST_TLS_CERT,
      authOptional: true,
      logger: false,
      disableReverseLookup: true,
      SNICallback(name, callback) {
        names.push(name);
        callback(null, undefined);
      },
    });
    server.on("error", () => {});
    const port = await new Promise<number>((resolve) => {
      const net = server.listen(0, "127.0.0.1", () => resolve((net.address() as AddressInfo).port));
    });
    try {
      const err = await sendEmail(
        { destination: { allowPrivate: true, resolve: async () => ["127.0.0.1"] }, timeoutMs: 5000 },
        { host: "mail.test", port, security: "tls", from: "a@example.com", to: "b@example.com" },
        {
          event: "test",
          title: "t",
          body: "b",
          link: null,
          user: { id: "u", username: "u", displayName: "U" },
          sentAt: new Date(),
        },
      ).then(
        () => undefined,
        (e: Error) => e,
      );
      // The certificate is self-signed, so the send stops at TLS: after the name was presented for it.
      expect(err?.message).toStartWith("The mail server could not");
      expect(names).toEqual(["mail.test"]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
