// Headers and secrets. Every HTML page of the route table, as anonymous, member and admin, carries a CSP without
// 'unsafe-inline' or 'unsafe-eval'; HSTS behind TLS (an https public URL, or https from a trusted proxy) and never
// over plain http; every cookie HttpOnly and SameSite, Secure behind TLS. Then known secrets are planted (Plex
// tokens, the Seerr and Kuma API keys, the yt-dlp cookies file, the Seerr webhook secret, the OIDC client secret,
// the metrics token, an SMTP password, the backup passphrase) and the pages, /metrics, failing upstreams that echo
// the secret back, failing jobs and bad requests are exercised: no log line, page, header, metric or error message
// holds any of them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { savePlexServer } from "../src/services/auth-settings";
import { saveDownloadSettings } from "../src/services/download-settings";
import { saveKumaIntegration, saveSeerrIntegration } from "../src/services/integrations";
import { saveOidcSettings } from "../src/services/oidc";
import { createNotificationTarget } from "../src/services/outbound-notifications";
import { syncRequests } from "../src/services/request-sync";
import { webhookSecret } from "../src/services/seerr-webhook";
import { runStatusChecks } from "../src/services/status";
import { plexMovie, plexSection, startFakePlexServer, type FakePlexServer } from "./fakes/plex-server";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { seerrMovie, seerrUser, startFakeSeerr, type FakeSeerr } from "./fakes/seerr";
import { startFakeUptimeKuma, type FakeUptimeKuma } from "./fakes/uptime-kuma";
import { createTestApp, givenUser, signIn, type Browser, type TestApp } from "./helpers/test-app";

interface Route {
  method: string;
  path: string;
}

async function routeTable(t: TestApp): Promise<Route[]> {
  const seen = new Set<string>();
  const out: Route[] = [];
  for (const r of await t.app.routes()) {
    if (r.method === "ALL" || seen.has(`${r.method} ${r.path}`)) continue;
    seen.add(`${r.method} ${r.path}`);
    out.push({ method: r.method, path: r.path });
  }
  return out;
}

function concrete(path: string): string {
  return path.replace(/:[a-zA-Z]+(\{[^}]*\})?\??/g, "00000000-0000-0000-0000-000000000000");
}

/** Read an answer's body, leaving an event stream (which never ends) unread. */
async function bodyOf(res: Response): Promise<string> {
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    await res.body?.cancel();
    return "";
  }
  return res.text();
}

/** A CSP's directives by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

describe("security headers and cookies", () => {
  const apps: Record<"http" | "tls" | "proxy", TestApp> = {} as never;
  let plextv: FakePlexTv;
  let issuer: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    plextv = startFakePlexTv();
    // A provider's discovery document, enough for a sign-in to start (and set its cookie).
    issuer = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        const base = new URL(req.url).origin;
        return Response.json({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          jwks_uri: `${base}/jwks`,
        });
      },
    });
    const env = { MEDIANEST_PLEX_TV_URL: plextv.url };
    apps.http = await createTestApp({ env, logLines: [] });
    apps.tls = await createTestApp({
      env: { ...env, MEDIANEST_PUBLIC_URL: "https://medianest.example.com" },
      logLines: [],
    });
    apps.proxy = await createTestApp({ env: { ...env, MEDIANEST_TRUST_PROXY: "true" }, logLines: [] });
    for (const t of Object.values(apps)) {
      await givenUser(t.deps, {
        role: "admin",
        username: "owner",
        passwordHash: await Bun.password.hash("owner-password-1"),
      });
      await savePlexServer(t.deps, { machineIdentifier: "headers-machine", name: "Home", url: null, ownerToken: "x" });
      await saveOidcSettings(t.deps, {
        issuer: `http://127.0.0.1:${issuer.port}`,
        clientId: "medianest",
        clientSecret: "oidc-client-secret",
        displayName: "SSO",
        groupClaim: "",
        adminGroup: "",
      });
    }
  });
  afterAll(async () => {
    for (const t of Object.values(apps)) await t.close();
    await plextv.stop();
    issuer.stop(true);
  });

  test("every HTML page, as anonymous, member and admin, has a CSP with no unsafe-inline or unsafe-eval", async () => {
    const t = apps.http;
    const member = await signIn(t, await givenUser(t.deps));
    const admin = await signIn(t, await givenUser(t.deps, { role: "admin" }));
    const problems: string[] = [];
    let pages = 0;
    for (const r of await routeTable(t)) {
      if (r.method !== "GET" || r.path === "/events") continue;
      for (const [who, get] of [
        ["anonymous", (p: string, h?: Record<string, string>) => t.request(p, { headers: h })],
        ["member", member.get],
        ["admin", admin.get],
      ] as const) {
        for (const headers of [{}, { "hx-request": "true" }] as Record<string, string>[]) {
          const res = await get(concrete(r.path), headers);
          await bodyOf(res);
          const csp = res.headers.get("content-security-policy");
          const label = `${r.path} as ${who}${"hx-request" in headers ? " (htmx)" : ""} → ${res.status}`;
          if (!csp) {
            problems.push(`${label}: no CSP`);
            continue;
          }
          if (!(res.headers.get("content-type") ?? "").startsWith("text/html")) continue;
          pages++;
          const d = directives(csp);
          for (const [name, values] of d)
            for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"].filter(
              (b) => values.includes(b) && (name !== "img-src" || b !== "data:"),
            ))
              problems.push(`${label}: ${name} allows ${bad}`);
          for (const name of ["script-src", "style-src", "object-src", "frame-ancestors", "base-uri"])
            if (!d.has(name)) problems.push(`${label}: no ${name}`);
          if (res.headers.get("x-content-type-options") !== "nosniff") problems.push(`${label}: no nosniff`);
          if (res.headers.has("strict-transport-security")) problems.push(`${label}: HSTS over plain http`);
        }
      }
    }
    expect(pages).toBeGreaterThan(60);
    expect(problems).toEqual([]);
  });

  test("HSTS on every answer behind TLS (https public URL, or https from a trusted proxy), never otherwise", async () => {
    const paths = [
      "/",
      "/login",
      "/healthz",
      "/static/nothing",
      "/no-such-page",
      "/api/v1/me",
      "/manifest.webmanifest",
    ];
    for (const path of paths) {
      const tls = await apps.tls.request(path);
      expect(`${path} ${tls.headers.get("strict-transport-security")}`).toBe(`${path} max-age=31536000`);
      const proxied = await apps.proxy.request(path, { headers: { "x-forwarded-proto": "https" } });
      expect(`${path} ${proxied.headers.get("strict-transport-security")}`).toBe(`${path} max-age=31536000`);
      // The same header from a client with no trusted proxy in front proves nothing.
      expect(
        (await apps.http.request(path, { headers: { "x-forwarded-proto": "https" } })).headers.has(
          "strict-transport-security",
        ),
      ).toBe(false);
      expect((await apps.proxy.request(path)).headers.has("strict-transport-security")).toBe(false);
    }
    const member = await signIn(apps.tls, await givenUser(apps.tls.deps));
    for (const path of ["/", "/downloads", "/account", "/notifications"]) {
      const res = await member.get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000");
    }
  });

  /** Every cookie the app sets: the session (password sign-in), the Plex PIN and the OIDC state. */
  async function cookiesOf(t: TestApp, headers: Record<string, string> = {}): Promise<string[]> {
    const origin = t.config.publicUrl ? new URL(t.config.publicUrl).origin : "http://localhost";
    const login = await t.request("/login", {
      method: "POST",
      headers: { origin, "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ username: "owner", password: "owner-password-1" }),
    });
    expect(login.status).toBe(303);
    const pin = await t.request("/auth/plex/pin", {
      method: "POST",
      headers: { origin, "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ next: "/" }),
    });
    expect(pin.status).toBe(200);
    const oidc = await t.request("/auth/oidc/start", { headers });
    expect(oidc.status).toBe(302);
    const all = [login, pin, oidc].flatMap((r) => r.headers.getSetCookie());
    expect(all.length).toBe(3);
    return all;
  }

  test("every cookie is HttpOnly and SameSite; Secure behind TLS, and a __Host- cookie is Secure, Path=/, without Domain", async () => {
    for (const [name, t, headers, secure] of [
      ["http", apps.http, {}, false],
      ["tls", apps.tls, {}, true],
      ["proxy", apps.proxy, { "x-forwarded-proto": "https" }, true],
    ] as const) {
      for (const cookie of await cookiesOf(t, headers)) {
        const attrs = cookie
          .split(";")
          .slice(1)
          .map((a) => a.trim().toLowerCase());
        const label = `${name}: ${cookie.split("=")[0]}`;
        expect(`${label} ${attrs.includes("httponly")}`).toBe(`${label} true`);
        expect(`${label} ${attrs.some((a) => a === "samesite=lax" || a === "samesite=strict")}`).toBe(`${label} true`);
        expect(`${label} ${attrs.includes("secure")}`).toBe(`${label} ${secure}`);
        if (cookie.startsWith("__Host-")) {
          expect(attrs).toContain("secure");
          expect(attrs).toContain("path=/");
          expect(attrs.some((a) => a.startsWith("domain="))).toBe(false);
        }
      }
    }
  });
});

// Distinct, greppable values; each must never leave the server.
const SECRETS = {
  plexOwnerToken: "plexOwnerTok3n-7f3a9c1d",
  plexUserToken: "plexUs3rTok3n-2b8e4f6a",
  seerrApiKey: "seerrApiK3y-9d1c7e5b3a",
  kumaApiKey: "uk1_kumaApiK3y-4e6a8c2d",
  ytdlpCookies: "c00kieValue-SID-5f7b9d1e3c",
  oidcClientSecret: "oidcCli3ntS3cret-8a2c4e6f",
  metricsToken: "metricsTok3n-1a3c5e7f9b2d4f6a",
  smtpPassword: "smtpPassw0rd-6c8e0a2b4d",
  backupPassphrase: "backupPassphras3-3b5d7f9a1c",
  webhookTargetAuth: "webhookTarg3tAuth-0d2f4b6c8e",
  ntfyToken: "tk_ntfyTok3n-5a7c9e1b3d",
} as const;
const MACHINE = "secrets-machine-0011223344";

/** A server that answers every request with an error carrying everything it was sent: headers, URL and body. */
function startEchoingUpstream() {
  let n = 0;
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const sent = `${req.method} ${req.url}\n${[...req.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${await req.text()}`;
      const shapes = [
        () => Response.json({ message: `denied: ${sent}`, error: sent }, { status: 401 }),
        () =>
          new Response(`<html><body><pre>${sent}</pre></body></html>`, {
            status: 500,
            headers: { "content-type": "text/html" },
          }),
        () => Response.json({ unexpected: sent }, { status: 200 }),
        () => new Response(`{"broken": "${sent}`, { status: 200, headers: { "content-type": "application/json" } }),
        () =>
          new Response(sent, {
            status: 503,
            headers: { "www-authenticate": `Bearer error="${sent.slice(0, 300).replace(/[\r\n"]/g, " ")}"` },
          }),
      ];
      return shapes[n++ % shapes.length]!();
    },
  });
}

/** A mail server that refuses every login, quoting the credentials it was given. */
function startEchoingSmtp() {
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.write("220 mail.example ESMTP\r\n");
      },
      data(s, chunk) {
        for (const line of chunk.toString().split("\r\n").filter(Boolean)) {
          const [verb] = line.split(" ");
          if (/^(EHLO|HELO)$/i.test(verb!)) s.write("250-mail.example\r\n250 AUTH PLAIN LOGIN\r\n");
          else if (/^AUTH$/i.test(verb!)) {
            const decoded = Buffer.from(line.split(" ")[2] ?? "", "base64").toString();
            s.write(`535 5.7.8 bad credentials ${decoded.replace(/\0/g, " ")} (${line})\r\n`);
          } else if (/^QUIT$/i.test(verb!)) s.end("221 bye\r\n");
          else s.write(`500 unknown ${line}\r\n`);
        }
      },
    },
  });
  return server;
}

describe("no secret leaves the server", () => {
  let t: TestApp;
  let plextv: FakePlexTv;
  let plex: FakePlexServer;
  let seerr: FakeSeerr;
  let kuma: FakeUptimeKuma;
  let echo: ReturnType<typeof Bun.serve>;
  let smtp: ReturnType<typeof startEchoingSmtp>;
  let admin: Browser;
  let member: Browser;
  let webhook: string;
  const logLines: string[] = [];
  /** Everything the app said: bodies, headers, metrics, log lines, with where it came from. */
  const said: { where: string; text: string }[] = [];

  function secretsIn(text: string): string[] {
    const all = { ...SECRETS, webhookSecret: webhook };
    // SMTP AUTH PLAIN carries user and password in one base64 string.
    if (text.includes(Buffer.from(`\0medianest\0${SECRETS.smtpPassword}`).toString("base64"))) return ["smtpPassword"];
    return Object.entries(all)
      .filter(
        ([, s]) =>
          text.includes(s) || text.includes(encodeURIComponent(s)) || text.includes(Buffer.from(s).toString("base64")),
      )
      .map(([name]) => name);
  }

  async function record(where: string, res: Response): Promise<Response> {
    const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    said.push({ where, text: `${headers}\n\n${await bodyOf(res)}` });
    return res;
  }

  /** Every GET route, as anonymous, member and admin, page and htmx fragment. */
  async function walkPages(phase: string) {
    for (const r of await routeTable(t)) {
      if (r.method !== "GET" || r.path === "/events") continue;
      const path = concrete(r.path).replace("/title/movie/00000000-0000-0000-0000-000000000000", "/title/movie/603");
      for (const headers of [{}, { "hx-request": "true" }] as Record<string, string>[]) {
        await record(`${phase} GET ${path} anonymous`, await t.request(path, { headers }));
        await record(`${phase} GET ${path} member`, await member.get(path, headers));
        await record(`${phase} GET ${path} admin`, await admin.get(path, headers));
      }
    }
    for (const path of ["/search?q=matrix", "/discover/trending", "/library/1", "/library/1/100", "/status"])
      await record(`${phase} GET ${path} admin`, await admin.get(path));
    await record(
      `${phase} GET /metrics`,
      await t.request("/metrics", { headers: { authorization: `Bearer ${SECRETS.metricsToken}` } }),
    );
    await record(`${phase} GET /metrics without the token`, await t.request("/metrics"));
    await record(
      `${phase} GET /metrics with a wrong token`,
      await t.request("/metrics", { headers: { authorization: "Bearer nope-nope-nope-nope" } }),
    );
  }

  beforeAll(async () => {
    plextv = startFakePlexTv();
    plex = startFakePlexServer({
      machineIdentifier: MACHINE,
      ownerToken: SECRETS.plexOwnerToken,
      userTokens: [SECRETS.plexUserToken],
      sections: [plexSection({ key: "1", type: "movie", title: "Movies" })],
      items: [plexMovie({ ratingKey: "100", title: "Heat", librarySectionID: 1 })],
    });
    seerr = startFakeSeerr({
      apiKey: SECRETS.seerrApiKey,
      users: [seerrUser({ id: 1, displayName: "owner", plexId: 9001 })],
      movies: [seerrMovie({ id: 603, title: "The Matrix" })],
    });
    kuma = startFakeUptimeKuma({ slug: "home", apiKey: SECRETS.kumaApiKey });
    echo = startEchoingUpstream();
    smtp = startEchoingSmtp();
    t = await createTestApp({
      env: {
        MEDIANEST_PLEX_TV_URL: plextv.url,
        MEDIANEST_METRICS_TOKEN: SECRETS.metricsToken,
        MEDIANEST_BACKUP_PASSPHRASE: SECRETS.backupPassphrase,
      },
      logLines,
    });
    await savePlexServer(t.deps, {
      machineIdentifier: MACHINE,
      name: "Home",
      url: plex.url,
      ownerToken: SECRETS.plexOwnerToken,
    });
    await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: SECRETS.seerrApiKey });
    await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home", apiKey: SECRETS.kumaApiKey });
    await saveDownloadSettings(t.deps, {
      cookies: `# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\t${SECRETS.ytdlpCookies}\n`,
    });
    await saveOidcSettings(t.deps, {
      issuer: echo.url.origin,
      clientId: "medianest",
      clientSecret: SECRETS.oidcClientSecret,
      displayName: "SSO",
      groupClaim: "",
      adminGroup: "",
    });
    webhook = await webhookSecret(t.deps);
    const adminUser = await givenUser(t.deps, { role: "admin", plexId: 9001 });
    admin = await signIn(t, adminUser);
    member = await signIn(
      t,
      await givenUser(t.deps, {
        plexId: 5002,
        plexTokenEnc: t.deps.secretBox.encrypt(SECRETS.plexUserToken),
        plexTokenServer: MACHINE,
      }),
    );
    await createNotificationTarget(t.deps, adminUser, {
      name: "Mail",
      events: ["announcement"],
      target: {
        kind: "email",
        config: {
          host: "127.0.0.1",
          port: smtp.port,
          security: "none",
          user: "medianest",
          password: SECRETS.smtpPassword,
          from: "medianest@example.com",
          to: "owner@example.com",
        },
      },
    });
    await createNotificationTarget(t.deps, adminUser, {
      name: "Hook",
      events: ["announcement"],
      target: {
        kind: "webhook",
        config: { url: `${echo.url.origin}/hook`, authorization: `Bearer ${SECRETS.webhookTargetAuth}` },
      },
    });
    await createNotificationTarget(t.deps, adminUser, {
      name: "Phone",
      events: ["announcement"],
      target: { kind: "ntfy", config: { server: echo.url.origin, topic: "medianest", token: SECRETS.ntfyToken } },
    });
  });

  afterAll(async () => {
    await t.close();
    await Promise.all([plextv.stop(), plex.stop(), seerr.stop(), kuma.stop()]);
    echo.stop(true);
    smtp.stop(true);
  });

  test("the planted secrets are in use (the fakes were called with them)", async () => {
    await runStatusChecks(t.deps);
    await record("healthy library page", await member.get("/library/1"));
    await record("healthy discover page", await member.get("/discover"));
    expect(
      plex.requests.some(
        (r) =>
          Object.values(r.headers).includes(SECRETS.plexUserToken) || r.query["X-Plex-Token"] === SECRETS.plexUserToken,
      ),
    ).toBe(true);
    expect(
      plex.requests.some(
        (r) =>
          Object.values(r.headers).includes(SECRETS.plexOwnerToken) ||
          r.query["X-Plex-Token"] === SECRETS.plexOwnerToken,
      ),
    ).toBe(true);
    expect(seerr.requests.some((r) => r.headers["x-api-key"] === SECRETS.seerrApiKey)).toBe(true);
    expect((await admin.get("/metrics")).status).toBe(401);
    expect((await t.request("/metrics", { headers: { authorization: `Bearer ${SECRETS.metricsToken}` } })).status).toBe(
      200,
    );
  });

  test("pages, /metrics and logs hold no secret while every upstream answers", async () => {
    await walkPages("healthy");
    await syncRequests(t.deps);
  });

  test("nor when every upstream fails and echoes the secret back in its error", async () => {
    const url = echo.url.origin;
    await savePlexServer(t.deps, { machineIdentifier: MACHINE, name: "Home", url, ownerToken: SECRETS.plexOwnerToken });
    await saveSeerrIntegration(t.deps, { url, apiKey: SECRETS.seerrApiKey });
    await saveKumaIntegration(t.deps, { url, slug: "home", apiKey: SECRETS.kumaApiKey });
    for (let i = 0; i < 5; i++) {
      await runStatusChecks(t.deps).catch((err: Error) =>
        said.push({ where: "status checks threw", text: err.message }),
      );
      await syncRequests(t.deps).catch((err: Error) => said.push({ where: "request sync threw", text: err.message }));
    }
    await walkPages("echoing");
    // The connection tests, with the secret typed again and with the field left empty (keep the saved one).
    for (let i = 0; i < 5; i++) {
      for (const [form, fields] of [
        ["seerr", { seerrUrl: url, seerrApiKey: SECRETS.seerrApiKey }],
        ["seerr", { seerrUrl: url, seerrApiKey: "" }],
        ["kuma", { kumaUrl: url, kumaSlug: "home", kumaApiKey: SECRETS.kumaApiKey }],
        ["kuma", { kumaUrl: url, kumaSlug: "home", kumaApiKey: "" }],
        ["plex", { plexUrl: url, plexToken: SECRETS.plexOwnerToken }],
        ["plex", { plexUrl: url, plexToken: "" }],
      ] as const) {
        await record(
          `POST /admin/integrations/${form}/test`,
          await admin.post(`/admin/integrations/${form}/test`, fields),
        );
        await record(`POST /admin/integrations/${form}`, await admin.post(`/admin/integrations/${form}`, fields));
        await record(
          `POST /admin/integrations/${form}/test (htmx)`,
          await admin.post(`/admin/integrations/${form}/test`, fields, { "hx-request": "true" }),
        );
      }
      await record("title request", await member.post("/title/movie/603/request", { is4k: "0" }));
      await record("oidc start", await t.request("/auth/oidc/start"));
    }
    // The mail server refuses the login quoting the password, the webhook and ntfy receivers their tokens; the test
    // results and the deliveries show the reasons.
    const targets = await (await admin.get("/account/notifications")).text();
    const ids = [
      ...new Set([...targets.matchAll(/\/account\/notifications\/([0-9a-f-]{36})\/test/g)].map((m) => m[1]!)),
    ];
    expect(ids.length).toBe(3);
    for (const id of ids) {
      await record(
        `send test ${id}`,
        await admin.post(`/account/notifications/${id}/test`, {}, { "hx-request": "true" }),
      );
      await record(`send test ${id} (page)`, await admin.post(`/account/notifications/${id}/test`));
    }
    await record("targets after the test", await admin.get("/account/notifications"));
    await record("admin deliveries", await admin.get("/admin/notifications"));
  });

  test("nor on bad requests that carry a secret", async () => {
    // An integration form that fails validation is shown again, without the secret typed into it.
    for (const [path, fields] of [
      ["/admin/integrations/seerr", { seerrUrl: "not a url", seerrApiKey: SECRETS.seerrApiKey }],
      ["/admin/integrations/seerr/test", { seerrUrl: "not a url", seerrApiKey: SECRETS.seerrApiKey }],
      ["/admin/integrations/kuma", { kumaUrl: "not a url", kumaSlug: "", kumaApiKey: SECRETS.kumaApiKey }],
      ["/admin/integrations/plex", { plexUrl: "not a url", plexToken: SECRETS.plexOwnerToken }],
      ["/admin/integrations/plex/test", { plexUrl: "not a url", plexToken: SECRETS.plexOwnerToken }],
      ["/admin/settings/oidc", { issuer: "not a url", clientId: "", clientSecret: SECRETS.oidcClientSecret }],
      [
        "/admin/settings/oidc",
        { issuer: "https://sso.example.com", clientId: "", clientSecret: SECRETS.oidcClientSecret },
      ],
    ] as const) {
      await record(`POST ${path} invalid`, await admin.post(path, fields));
      await record(`POST ${path} invalid (htmx)`, await admin.post(path, fields, { "hx-request": "true" }));
    }
    // A download settings form with a bad field and a cookies file: shown again without the file's content.
    for (const cookies of [
      `# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\t${SECRETS.ytdlpCookies}\n`,
      `not a cookies file ${SECRETS.ytdlpCookies}`,
    ]) {
      const body = new FormData();
      body.set("_csrf", admin.csrf);
      body.set("workers", "many");
      body.set("cookies", new File([cookies], "cookies.txt"));
      await record(
        "download settings with a cookies file",
        await t.request("/admin/download-settings", {
          method: "POST",
          body,
          headers: { cookie: admin.cookie, origin: "http://localhost" },
        }),
      );
    }
    await record(
      "webhook with a wrong secret",
      await t.request("/api/v1/webhooks/seerr", {
        method: "POST",
        headers: { authorization: `Bearer ${webhook}x`, "content-type": "application/json" },
        body: "{}",
      }),
    );
    await record(
      "webhook with the secret and a bad body",
      await t.request("/api/v1/webhooks/seerr", {
        method: "POST",
        headers: { authorization: `Bearer ${webhook}`, "content-type": "application/json" },
        body: '{"notification_type": 5}',
      }),
    );
    await record(
      "malformed JSON with a token",
      await t.request("/api/v1/me", {
        method: "POST",
        headers: { authorization: `Bearer ${SECRETS.metricsToken}`, "content-type": "application/json" },
        body: `{"${SECRETS.seerrApiKey}"`,
      }),
    );
    await record(
      "metrics token as a session cookie",
      await t.request("/", { headers: { cookie: `mn_session=${SECRETS.metricsToken}` } }),
    );
    await record(
      "metrics token as an API token",
      await t.request("/api/v1/me", { headers: { authorization: `Bearer mn_${SECRETS.metricsToken}` } }),
    );
  });

  test("no log line, page, header, metric or error message held a secret", async () => {
    expect(said.length).toBeGreaterThan(500);
    for (const line of logLines) said.push({ where: "log", text: line });
    const found = said.flatMap(({ where, text }) =>
      secretsIn(text).map((name) => {
        const s = { ...SECRETS, webhookSecret: webhook }[name as keyof typeof SECRETS] ?? webhook;
        const at = text.indexOf(s);
        return `${name} in ${where}: …${text.slice(Math.max(0, at - 120), at + 40).replace(/\s+/g, " ")}…`;
      }),
    );
    expect([...new Set(found)]).toEqual([]);
  });
});
