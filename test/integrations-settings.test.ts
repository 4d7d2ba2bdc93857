// The integrations page end to end: saving each service through the page (CSRF forms), secrets encrypted and
// never shown, connection tests against real fakes (success and each kind of failure), validation and access.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { savePlexServer } from "../src/services/auth-settings";
import { getIntegrations } from "../src/services/integrations";
import { listAuditEntries } from "../src/store/audit";
import { type FakePlexServer, startFakePlexServer } from "./fakes/plex-server";
import { type FakeSeerr, SEERR_PERMISSIONS, seerrUser, startFakeSeerr } from "./fakes/seerr";
import { type FakeUptimeKuma, startFakeUptimeKuma } from "./fakes/uptime-kuma";
import { type Browser, createTestApp, givenUser, signIn, type TestApp } from "./helpers/test-app";

const MACHINE_ID = "f00dbabe0000111122223333444455556666777788";
const PLEX_TOKEN = "plex-owner-token-SECRET-1";
const SEERR_KEY = "seerr-api-key-SECRET-2";
const KUMA_KEY = "uk1_kuma-api-key-SECRET-3";
const YTDLP = "/usr/bin/yt-dlp";
const HTMX = { "hx-request": "true" };

let t: TestApp;
let admin: Browser;
let member: Browser;
let plex: FakePlexServer;
let seerr: FakeSeerr;
let kuma: FakeUptimeKuma;
let scratch: string;
let closedUrl: string;

beforeAll(async () => {
  plex = startFakePlexServer({
    machineIdentifier: MACHINE_ID,
    ownerToken: PLEX_TOKEN,
    friendlyName: "Basement",
    version: "1.41.3.9314-a0bfb8370",
  });
  seerr = startFakeSeerr({
    apiKey: SEERR_KEY,
    version: "2.7.3",
    updateAvailable: true,
    commitsBehind: 2,
    users: [
      seerrUser({ id: 1, displayName: "owner", permissions: SEERR_PERMISSIONS.ADMIN }),
      seerrUser({ id: 2, displayName: "Alice" }),
    ],
  });
  kuma = startFakeUptimeKuma({
    slug: "home",
    title: "Home services",
    apiKey: KUMA_KEY,
    groups: [
      {
        name: "Media",
        monitors: [
          { id: 1, name: "Plex" },
          { id: 2, name: "Seerr" },
        ],
      },
      { name: "Network", monitors: [{ id: 3, name: "Router", type: "ping" }] },
    ],
  });
  const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  closedUrl = `http://127.0.0.1:${gone.port}`;
  await gone.stop(true);
  scratch = mkdtempSync(join(tmpdir(), "medianest-integrations-"));
  t = await createTestApp();
  admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
  member = await signIn(t, await givenUser(t.deps, { role: "user" }));
});

afterAll(async () => {
  await t.close();
  await Promise.all([plex.stop(), seerr.stop(), kuma.stop()]);
  rmSync(scratch, { recursive: true, force: true });
});

afterEach(() => {
  delete t.deps.integrationTimeoutMs;
});

async function rawSetting(key: string) {
  const { db, tables } = t.deps.database;
  const [row] = await db.select().from(tables.settings).where(eq(tables.settings.key, key));
  return row;
}

async function page(): Promise<string> {
  const res = await admin.get("/admin/integrations");
  expect(res.status).toBe(200);
  return res.text();
}

/** POST a connection test as htmx does and return the fragment; a test never answers a server error. */
async function testConnection(service: string, form: Record<string, string>, status = 200): Promise<string> {
  const res = await admin.post(`/admin/integrations/${service}/test`, form, HTMX);
  const html = await res.text();
  expect(res.status).toBe(status);
  expect(html).not.toContain("<html");
  return html;
}

function expectNoSecrets(html: string) {
  for (const s of [PLEX_TOKEN, SEERR_KEY, KUMA_KEY]) expect(html).not.toContain(s);
}

async function saveAll() {
  expect((await admin.post("/admin/integrations/plex", { plexUrl: plex.url, plexToken: PLEX_TOKEN })).status).toBe(303);
  expect((await admin.post("/admin/integrations/seerr", { seerrUrl: seerr.url, seerrApiKey: SEERR_KEY })).status).toBe(
    303,
  );
  expect(
    (await admin.post("/admin/integrations/kuma", { kumaUrl: kuma.url, kumaSlug: "home", kumaApiKey: KUMA_KEY }))
      .status,
  ).toBe(303);
}

describe("access", () => {
  test("members get 403 on the page and every action; anonymous visitors are sent to sign in", async () => {
    expect((await member.get("/admin/integrations")).status).toBe(403);
    for (const path of [
      "plex",
      "plex/test",
      "seerr",
      "seerr/test",
      "seerr/remove",
      "kuma",
      "kuma/test",
      "kuma/remove",
      "ytdlp",
      "ytdlp/test",
      "libraries",
    ]) {
      expect((await member.post(`/admin/integrations/${path}`, { seerrUrl: seerr.url, seerrApiKey: "x" })).status).toBe(
        403,
      );
    }
    const anon = await t.request("/admin/integrations");
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toStartWith("/login");
  });

  test("the admin overview links to the page", async () => {
    const html = await (await admin.get("/admin")).text();
    expect(html).toContain('href="/admin/integrations"');
  });
});

describe("Plex server", () => {
  test("is prefilled from setup: URL shown, token masked", async () => {
    await savePlexServer(t.deps, {
      machineIdentifier: MACHINE_ID,
      name: "Basement",
      url: plex.url,
      ownerToken: PLEX_TOKEN,
    });
    const html = await page();
    expect(html).toContain(`value="${plex.url}"`);
    expect(html).toContain("A secret is saved (hidden). Leave empty to keep it.");
    expectNoSecrets(html);
  });

  test("save reads the machine identifier from /identity and lists the library sections", async () => {
    const before = plex.requests.length;
    const res = await admin.post("/admin/integrations/plex", { plexUrl: `${plex.url}/`, plexToken: PLEX_TOKEN });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/admin\/integrations\?saved=plex&result=[0-9a-f-]{36}#plex$/);
    expect(plex.requests.slice(before).map((r) => r.path)).toContain("/identity");
    const result = await (await admin.get(res.headers.get("location")!)).text();
    expect(result).toContain("Plex server saved. The connection test passed: Connected to Plex server “Basement”.");

    const settings = await getIntegrations(t.deps);
    expect(settings.plex).toEqual({
      url: plex.url,
      token: PLEX_TOKEN,
      machineIdentifier: MACHINE_ID,
      name: "Basement",
    });
    expect(settings.libraries.map((l) => [l.sectionKey, l.title, l.type, l.folder])).toEqual([
      ["1", "Movies", "movie", ""],
      ["2", "TV Shows", "show", ""],
    ]);

    const html = await (await admin.get("/admin/integrations?saved=plex")).text();
    expect(html).toContain("Plex server saved");
    expect(html).toContain(MACHINE_ID);
    expect(html).toContain("TV Shows");
    expectNoSecrets(html);
  });

  test("the owner token is encrypted at rest", async () => {
    const row = await rawSetting("plex.owner_token");
    expect(row?.secret).toBe(true);
    expect(row?.value).not.toBe(PLEX_TOKEN);
    expect(row?.value).not.toContain(PLEX_TOKEN);
  });

  test("an empty token keeps the stored one", async () => {
    expect((await admin.post("/admin/integrations/plex", { plexUrl: plex.url, plexToken: "" })).status).toBe(303);
    expect((await getIntegrations(t.deps)).plex?.token).toBe(PLEX_TOKEN);
    expect(plex.requests.at(-1)?.headers["x-plex-token"]).toBe(PLEX_TOKEN);
  });

  test("a wrong token is saved like any setting, and the page says plainly that the test failed", async () => {
    const res = await admin.post("/admin/integrations/plex", { plexUrl: plex.url, plexToken: "wrong-token-value" });
    expect(res.status).toBe(303);
    expect((await getIntegrations(t.deps)).plex?.token).toBe("wrong-token-value");
    const back = await admin.get(res.headers.get("location")!);
    expect(back.status).toBe(200);
    const html = await back.text();
    expect(html).toContain(
      "Plex server saved, but the connection test failed: Plex rejected the token (status 401). Its machine identifier and library sections were not read",
    );
    expect(html).toContain('class="alert alert-warn"');
    expect(html).not.toContain("wrong-token-value");
    // The result is this admin's: another admin following the same address sees only the page.
    const other = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    expect(await (await other.get(res.headers.get("location")!)).text()).not.toContain("connection test failed");
    await saveAll();
  });

  test("a server that cannot be reached is saved, and the test's failure names the reason; no 404 on the way", async () => {
    const res = await admin.post("/admin/integrations/plex", { plexUrl: closedUrl, plexToken: PLEX_TOKEN });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toStartWith("/admin/integrations?");
    expect((await getIntegrations(t.deps)).plex?.url).toBe(closedUrl);
    const html = await (await admin.get(res.headers.get("location")!)).text();
    expect(html).toContain(
      "Plex server saved, but the connection test failed: Plex could not be reached (connection refused)",
    );
    const { entries } = await listAuditEntries(t.deps.database, { action: "settings.change", limit: 1 });
    expect(entries[0]?.detail).toMatchObject({ url: closedUrl, reached: false });
    // A refused form answers under its own address (422 there); that address answers a GET with the page.
    const refused = await admin.post("/admin/integrations/plex", { plexUrl: "not a url", plexToken: "" });
    expect(refused.status).toBe(422);
    for (const form of ["plex", "seerr", "kuma", "ytdlp", "libraries"]) {
      const again = await admin.get(`/admin/integrations/${form}`);
      expect(again.status).toBe(303);
      expect(again.headers.get("location")).toBe(`/admin/integrations#${form}`);
    }
    await saveAll();
  });

  test("Seerr behaves as Plex does: an unreachable address is saved and the failed test is said", async () => {
    const res = await admin.post("/admin/integrations/seerr", { seerrUrl: closedUrl, seerrApiKey: SEERR_KEY });
    expect(res.status).toBe(303);
    expect((await getIntegrations(t.deps)).seerr?.url).toBe(closedUrl);
    const html = await (await admin.get(res.headers.get("location")!)).text();
    expect(html).toContain(
      "Seerr saved, but the connection test failed: Seerr could not be reached (connection refused)",
    );
    const ok = await admin.post("/admin/integrations/seerr", { seerrUrl: seerr.url, seerrApiKey: SEERR_KEY });
    expect(await (await admin.get(ok.headers.get("location")!)).text()).toContain(
      "Seerr saved. The connection test passed: Connected to Seerr 2.7.3.",
    );
    const kumaBad = await admin.post("/admin/integrations/kuma", { kumaUrl: closedUrl, kumaSlug: "home" });
    expect(await (await admin.get(kumaBad.headers.get("location")!)).text()).toContain(
      "Uptime Kuma saved, but the connection test failed",
    );
    await saveAll();
  });

  test("the saved token and keys go only where they were saved for: a new address needs them typed again", async () => {
    await saveAll();
    const before = plex.requests.length;
    const elsewhere = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) =>
        Response.json(
          { MediaContainer: { size: 0, claimed: true, machineIdentifier: "someone-else", version: "1" } },
          { headers: { "x-saw-token": req.headers.get("x-plex-token") ?? "" } },
        ),
    });
    const seen: string[] = [];
    const recorder = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        seen.push(req.headers.get("x-api-key") ?? "");
        return Response.json({ version: "1" });
      },
    });
    try {
      const other = `http://127.0.0.1:${elsewhere.port}`;
      const save = await admin.post("/admin/integrations/plex", { plexUrl: other, plexToken: "" });
      expect(save.status).toBe(422);
      expect(await save.text()).toContain("Enter the owner token again");
      expect(await testConnection("plex", { plexUrl: other, plexToken: "" }, 422)).toContain(
        "Enter the owner token again",
      );
      // Another address of the same server (its /identity names the saved machine) keeps the token.
      expect(
        await testConnection("plex", { plexUrl: plex.url.replace("127.0.0.1", "localhost"), plexToken: "" }),
      ).not.toContain("Enter the owner token again");
      expect(plex.requests.length).toBeGreaterThan(before);

      const seerrTest = await testConnection(
        "seerr",
        { seerrUrl: `http://127.0.0.1:${recorder.port}`, seerrApiKey: "" },
        422,
      );
      expect(seerrTest).toContain("Enter the API key again");
      expect(seen.filter((k) => k === SEERR_KEY)).toHaveLength(0);
    } finally {
      await elsewhere.stop(true);
      await recorder.stop(true);
    }
  });
});

describe("saving Seerr and Uptime Kuma", () => {
  test("secrets are encrypted at rest, masked in the page, and kept when the field is left empty", async () => {
    await saveAll();
    for (const [key, plain] of [
      ["seerr.api_key", SEERR_KEY],
      ["kuma.api_key", KUMA_KEY],
    ] as const) {
      const row = await rawSetting(key);
      expect(row?.secret).toBe(true);
      expect(row?.value).not.toContain(plain);
    }
    expect((await admin.post("/admin/integrations/seerr", { seerrUrl: `${seerr.url}/`, seerrApiKey: "" })).status).toBe(
      303,
    );
    expect(
      (await admin.post("/admin/integrations/kuma", { kumaUrl: kuma.url, kumaSlug: "home", kumaApiKey: "" })).status,
    ).toBe(303);
    const settings = await getIntegrations(t.deps);
    expect(settings.seerr).toEqual({ url: seerr.url, apiKey: SEERR_KEY });
    expect(settings.kuma).toEqual({ url: kuma.url, slug: "home", apiKey: KUMA_KEY });

    const html = await page();
    expect(html).toContain(`value="${seerr.url}"`);
    expect(html).toContain('value="home"');
    expect(html.match(/A secret is saved \(hidden\)/g)?.length).toBe(3);
    expectNoSecrets(html);
  });

  test("Seerr needs an API key the first time", async () => {
    await admin.post("/admin/integrations/seerr/remove");
    const res = await admin.post("/admin/integrations/seerr", { seerrUrl: seerr.url, seerrApiKey: "" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Enter the API key: none is saved yet.");
    expect((await getIntegrations(t.deps)).seerr).toBeUndefined();
  });

  test("Remove forgets Seerr and Uptime Kuma (and htmx gets a redirect header)", async () => {
    await saveAll();
    const res = await admin.post("/admin/integrations/seerr/remove", {}, HTMX);
    expect(res.status).toBe(200);
    expect(res.headers.get("hx-redirect")).toBe("/admin/integrations?saved=seerr-removed");
    const plain = await admin.post("/admin/integrations/kuma/remove");
    expect(plain.status).toBe(303);
    const settings = await getIntegrations(t.deps);
    expect(settings.seerr).toBeUndefined();
    expect(settings.kuma).toBeUndefined();
    expect(await rawSetting("seerr.api_key")).toBeUndefined();
    expect(await rawSetting("kuma.api_key")).toBeUndefined();
    await saveAll();
  });

  test("the Kuma API key can be forgotten on purpose", async () => {
    expect(
      (
        await admin.post("/admin/integrations/kuma", {
          kumaUrl: kuma.url,
          kumaSlug: "home",
          kumaApiKey: "",
          kumaClearApiKey: "on",
        })
      ).status,
    ).toBe(303);
    expect((await getIntegrations(t.deps)).kuma).toEqual({ url: kuma.url, slug: "home", apiKey: null });
    await saveAll();
  });

  test("every change is audited as settings.change, never with a secret", async () => {
    const { entries } = await listAuditEntries(t.deps.database, { action: "settings.change", limit: 100 });
    const ids = new Set(entries.map((e) => e.targetId));
    for (const id of ["integrations.plex", "integrations.seerr", "integrations.kuma"]) expect(ids.has(id)).toBe(true);
    const details = JSON.stringify(entries.map((e) => e.detail));
    expectNoSecrets(details);
    expect(entries.find((e) => e.targetId === "integrations.seerr")?.detail).toMatchObject({ url: seerr.url });
  });
});

describe("validation", () => {
  const cases: [string, Record<string, string>, string, string][] = [
    ["seerr", { seerrUrl: "ftp://seerr.local", seerrApiKey: "k" }, "seerrUrl", "Use an http:// or https:// URL"],
    ["seerr", { seerrUrl: "not a url", seerrApiKey: "k" }, "seerrUrl", "Enter an http(s) URL"],
    ["plex", { plexUrl: "javascript:alert(1)", plexToken: "" }, "plexUrl", "Use an http:// or https:// URL"],
    [
      "kuma",
      { kumaUrl: "http://user:pw@kuma.local", kumaSlug: "home" },
      "kumaUrl",
      "Leave the user name and password out",
    ],
    ["kuma", { kumaUrl: "http://127.0.0.1:3001", kumaSlug: "../admin" }, "kumaSlug", "Use only the slug"],
    ["ytdlp", { ytdlpPath: "bin/yt-dlp" }, "ytdlpPath", "Use an absolute path"],
  ];
  for (const [service, form, field, message] of cases) {
    test(`${service}: ${JSON.stringify(form)} → 422 naming ${field}`, async () => {
      const res = await admin.post(`/admin/integrations/${service}`, form);
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain(`id="f-${field}" name="${field}"`);
      expect(html).toMatch(new RegExp(`id="f-${field}-error">[^<]*${message.replace(/[()?]/g, "\\$&")}`));
      expect(html).toContain('aria-invalid="true"');
    });
  }

  test("a bad URL in a connection test answers 422 with a readable fragment", async () => {
    const html = await testConnection("seerr", { seerrUrl: "gopher://x", seerrApiKey: "" }, 422);
    expect(html).toContain("Not tested: Use an http:// or https:// URL");
  });

  test("the stored settings survive invalid input", async () => {
    expect((await getIntegrations(t.deps)).seerr?.url).toBe(seerr.url);
  });
});

describe("test connection: success", () => {
  test("Plex: server name, version, latency, library count", async () => {
    const html = await testConnection("plex", { plexUrl: plex.url, plexToken: "" });
    expect(html).toContain("Connected to Plex server “Basement”.");
    expect(html).toContain("1.41.3.9314-a0bfb8370");
    expect(html).toMatch(/Latency: <span class="mono">\d+ ms/);
    expect(html).toContain('Libraries: <span class="mono">2</span>');
    expectNoSecrets(html);
  });

  test("Seerr: version, latency, update available; the stored key is used when the field is empty", async () => {
    const html = await testConnection("seerr", { seerrUrl: seerr.url, seerrApiKey: "" });
    expect(html).toContain("Connected to Seerr 2.7.3.");
    expect(html).toMatch(/Latency: <span class="mono">\d+ ms/);
    expect(html).toContain('Update available: <span class="mono">yes (2 commits behind)</span>');
    expect(seerr.requests.at(-1)?.headers["x-api-key"]).toBe(SEERR_KEY);
    expectNoSecrets(html);
  });

  test("Uptime Kuma: status page title, monitor count, latency, and the API key accepted by /metrics", async () => {
    const html = await testConnection("kuma", { kumaUrl: kuma.url, kumaSlug: "home", kumaApiKey: "" });
    expect(html).toContain('Status page: <span class="mono">Home services</span>');
    expect(html).toContain('Monitors: <span class="mono">3</span>');
    expect(html).toMatch(/Latency: <span class="mono">\d+ ms/);
    expect(html).toContain("accepted by /metrics");
  });

  test("Uptime Kuma: a wrong API key is reported, the status page still works", async () => {
    const html = await testConnection("kuma", { kumaUrl: kuma.url, kumaSlug: "home", kumaApiKey: "wrong-kuma-key" });
    expect(html).toContain("not accepted by /metrics");
    expect(html).toContain("Uptime Kuma rejected the API key (status 401)");
    expect(html).not.toContain("wrong-kuma-key");
  });

  test.skipIf(!existsSync(YTDLP))("yt-dlp: its version", async () => {
    const version = (await Bun.$`${YTDLP} --version`.text()).trim();
    const html = await testConnection("ytdlp", { ytdlpPath: YTDLP });
    expect(html).toContain(`yt-dlp ${version} works.`);
  });

  test("without JavaScript the whole page comes back with the result in its card", async () => {
    const res = await admin.post("/admin/integrations/seerr/test", { seerrUrl: seerr.url, seerrApiKey: "" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("<!DOCTYPE html>");
    expect(html).toMatch(
      /<div id="seerr-test" aria-live="polite"><div class="alert alert-ok" role="status"><strong>Connected to Seerr 2\.7\.3\./,
    );
  });
});

if (!existsSync(YTDLP))
  console.warn(`integrations-settings.test: ${YTDLP} is absent; skipping the yt-dlp version tests`);

describe("test connection: each failure kind is a readable message, never a 500", () => {
  test("connection refused", async () => {
    expect(await testConnection("plex", { plexUrl: closedUrl, plexToken: PLEX_TOKEN })).toContain(
      "Plex could not be reached (connection refused)",
    );
    expect(await testConnection("seerr", { seerrUrl: closedUrl, seerrApiKey: SEERR_KEY })).toContain(
      "Seerr could not be reached (connection refused)",
    );
    expect(await testConnection("kuma", { kumaUrl: closedUrl, kumaSlug: "home" })).toContain(
      "Uptime Kuma could not be reached (connection refused)",
    );
  });

  test("401: a rejected key or token", async () => {
    expect(await testConnection("seerr", { seerrUrl: seerr.url, seerrApiKey: "wrong-seerr-key" })).toContain(
      "Seerr rejected the API key (status 401)",
    );
    expect(await testConnection("plex", { plexUrl: plex.url, plexToken: "wrong-plex-token" })).toContain(
      "Plex rejected the token (status 401)",
    );
  });

  test("an HTML page instead of JSON", async () => {
    seerr.failNext("html");
    expect(await testConnection("seerr", { seerrUrl: seerr.url, seerrApiKey: "" })).toContain(
      "Seerr answered something that is not JSON",
    );
    plex.failNext("html");
    expect(await testConnection("plex", { plexUrl: plex.url, plexToken: "" })).toContain(
      "Plex answered something that is not JSON",
    );
    kuma.failNext("html");
    expect(await testConnection("kuma", { kumaUrl: kuma.url, kumaSlug: "home" })).toContain(
      "Uptime Kuma answered something that is not JSON",
    );
  });

  test("no answer within the (shortened) timeout", async () => {
    t.deps.integrationTimeoutMs = 300;
    plex.failNext("timeout");
    const started = performance.now();
    expect(await testConnection("plex", { plexUrl: plex.url, plexToken: "" })).toContain(
      "Plex did not answer (timeout after 0.3 s)",
    );
    expect(performance.now() - started).toBeLessThan(3000);
    seerr.failNext("timeout");
    expect(await testConnection("seerr", { seerrUrl: seerr.url, seerrApiKey: "" })).toContain(
      "Seerr did not answer (timeout after 0.3 s)",
    );
  });

  test("an unknown Kuma status page", async () => {
    expect(await testConnection("kuma", { kumaUrl: kuma.url, kumaSlug: "nope" })).toContain(
      "Uptime Kuma has no status page with the slug &quot;nope&quot; (Status Page Not Found)",
    );
  });

  test("a missing yt-dlp binary, and one that hangs", async () => {
    expect(await testConnection("ytdlp", { ytdlpPath: "/usr/bin/nope" })).toContain(
      "yt-dlp not found at /usr/bin/nope",
    );
    expect(await testConnection("ytdlp", { ytdlpPath: "no-such-program-medianest" })).toContain(
      "yt-dlp not found: no-such-program-medianest is not on the PATH",
    );
    const hang = join(scratch, "hang.sh");
    writeFileSync(hang, "#!/bin/sh\nexec sleep 30\n");
    chmodSync(hang, 0o755);
    t.deps.integrationTimeoutMs = 300;
    expect(await testConnection("ytdlp", { ytdlpPath: hang })).toContain(
      `yt-dlp at ${hang} did not answer (timeout after 0.3 s)`,
    );
    const notYtdlp = join(scratch, "quiet.sh");
    writeFileSync(notYtdlp, "#!/bin/sh\nexit 0\n");
    chmodSync(notYtdlp, 0o755);
    expect(await testConnection("ytdlp", { ytdlpPath: notYtdlp })).toContain(
      "does not look like yt-dlp (--version printed nothing)",
    );
  });

  test("a secret typed into a failing test never comes back", async () => {
    const html = await testConnection("seerr", { seerrUrl: closedUrl, seerrApiKey: "typed-secret-value" });
    expect(html).not.toContain("typed-secret-value");
  });
});

describe("yt-dlp and download folders", () => {
  test.skipIf(!existsSync(YTDLP))("the page shows the saved binary's version", async () => {
    expect((await admin.post("/admin/integrations/ytdlp", { ytdlpPath: YTDLP })).status).toBe(303);
    expect((await getIntegrations(t.deps)).ytdlpPath).toBe(YTDLP);
    const version = (await Bun.$`${YTDLP} --version`.text()).trim();
    expect(await page()).toContain(`Version <strong class="mono">${version}</strong>`);
  });

  test("a missing binary is shown as a warning on the page", async () => {
    expect((await admin.post("/admin/integrations/ytdlp", { ytdlpPath: "/usr/bin/nope" })).status).toBe(303);
    expect(await page()).toContain("yt-dlp not found at /usr/bin/nope");
    await admin.post("/admin/integrations/ytdlp", { ytdlpPath: YTDLP });
  });

  test("folders must be absolute; a missing or unwritable folder warns but saves", async () => {
    const bad = await admin.post("/admin/integrations/libraries", { "folder-1": "media/movies", "folder-2": "" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/id="f-folder-1-error">Use an absolute folder path/);

    const movies = join(scratch, "movies");
    Bun.spawnSync(["mkdir", "-p", movies]);
    const missing = join(scratch, "missing", "tv");
    const res = await admin.post("/admin/integrations/libraries", { "folder-1": `${movies}/`, "folder-2": missing });
    expect(res.status).toBe(303);
    expect((await getIntegrations(t.deps)).libraries.map((l) => l.folder)).toEqual([movies, missing]);
    const html = await page();
    expect(html).toContain(`${missing} does not exist (yet)`);
    expect(html).not.toContain(`${movies} does not exist`);

    const { entries } = await listAuditEntries(t.deps.database, { action: "settings.change", limit: 5 });
    expect(entries[0]?.targetId).toBe("integrations.libraries");
  });

  test("re-saving Plex keeps the folders of sections it still has", async () => {
    expect((await admin.post("/admin/integrations/plex", { plexUrl: plex.url, plexToken: "" })).status).toBe(303);
    expect((await getIntegrations(t.deps)).libraries.map((l) => l.folder)[0]).toBe(join(scratch, "movies"));
  });

  test("nothing on the page ever shows a secret", async () => {
    expectNoSecrets(await page());
  });
});
