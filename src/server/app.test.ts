import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { postgresAvailable } from "../../test/helpers/services";
import { createTestApp, givenUser, ORIGIN, signIn, type Dialect, type TestApp } from "../../test/helpers/test-app";
import { findSessionByHash } from "../store/sessions";
import { hashToken, SESSION_COOKIE } from "../services/sessions";
import { routesOutside } from "./app";

const PUBLIC = join(import.meta.dir, "../../public");

let t: TestApp;
const logLines: string[] = [];
beforeAll(async () => {
  t = await createTestApp({ env: { MEDIANEST_BODY_LIMIT: "2048" }, logLines });
  // With no administrator every page redirects to /setup; these tests are about the app after setup.
  await givenUser(t.deps, { role: "admin" });
});
afterAll(async () => {
  await t?.close();
});

function csp(res: Response): Map<string, string[]> {
  const header = res.headers.get("content-security-policy") ?? "";
  return new Map(
    header
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

async function homeAssets(): Promise<{ css: string; js: string }> {
  const html = await (await t.request("/")).text();
  const css = html.match(/href="(\/static\/app\.[0-9a-f]+\.css)"/)?.[1];
  const js = html.match(/src="(\/static\/app\.[0-9a-f]+\.js)"/)?.[1];
  expect(css).toBeDefined();
  expect(js).toBeDefined();
  return { css: css!, js: js! };
}

describe("health", () => {
  test("/healthz answers 200 ok", async () => {
    const res = await t.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });

  test("/readyz answers 200 with the state of each dependency", async () => {
    const res = await t.request("/readyz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ ready: true, database: "up", migrations: "current", coordination: "memory up" });
  });
});

describe("draining", () => {
  test("/readyz and medianest_ready both say not ready once the replica drains; other requests are served", async () => {
    const d = await createTestApp();
    try {
      const gauge = async () => {
        const text = await (await d.request("/metrics")).text();
        return /^medianest_ready (\d)$/m.exec(text)?.[1];
      };
      expect((await d.request("/readyz")).status).toBe(200);
      expect(await gauge()).toBe("1");

      d.deps.readiness.drain();
      const res = await d.request("/readyz");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ready: false, draining: true });
      expect(await gauge()).toBe("0");
      expect((await d.request("/healthz")).status).toBe(200);
    } finally {
      await d.close();
    }
  });
});

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable)(`readiness on ${dialect}`, () => {
    test("/readyz answers 503 once the database is gone; /healthz stays 200; pages fail clearly", async () => {
      const lines: string[] = [];
      const dead = await createTestApp({ dialect, logLines: lines });
      try {
        await dead.deps.database.close();

        const res = await dead.request("/readyz");
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          ready: false,
          database: "down",
          migrations: "pending",
          coordination: "memory up",
        });
        expect((await dead.request("/healthz")).status).toBe(200);

        const page = await dead.request("/");
        if (dialect === "postgres") {
          // An ended pool is an unreachable database: a clear 503 (test/outage.test.ts cuts a live one).
          expect(page.status).toBe(503);
          expect(await page.text()).toContain("MediaNest cannot reach its database right now");
        } else {
          expect(page.status).toBe(500);
          expect(await page.text()).toContain("MediaNest hit an unexpected error");
        }
      } finally {
        await dead.close();
      }
    });

    test("/readyz answers 503 when the schema does not match this binary", async () => {
      const other = await createTestApp({ dialect });
      try {
        const { database } = other.deps;
        const known = (await import("../db/migrate")).knownMigrations(database).length;
        if (database.sqlite)
          database.sqlite.run(
            `INSERT INTO medianest_migrations (idx, tag, applied_at) VALUES (${known}, '9999_future', 0)`,
          );
        else await database.pg!.unsafe(`INSERT INTO medianest_migrations (idx, tag) VALUES (${known}, '9999_future')`);

        const res = await other.request("/readyz");
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ ready: false, database: "up", migrations: "pending" });
      } finally {
        await other.close();
      }
    });
  });
}

describe("/metrics", () => {
  test("exports request durations by route pattern, build info, and no lint-failing gauges", async () => {
    const { css } = await homeAssets();
    expect((await t.request(css)).status).toBe(200);
    const missing = `/no-such-page-${crypto.randomUUID()}`;
    expect((await t.request(missing)).status).toBe(404);

    const res = await t.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();

    expect(text).toContain("# TYPE medianest_http_request_duration_seconds histogram");
    expect(text).toMatch(
      /medianest_http_request_duration_seconds_count\{method="GET",route="\/static\/:file",status="200"\} \d+/,
    );
    expect(text).toMatch(/medianest_http_request_duration_seconds_count\{method="GET",route="\/",status="200"\} \d+/);
    expect(text).toMatch(
      /medianest_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+/,
    );
    // Raw paths would make one series per file hash or per typo.
    expect(text).not.toContain(css);
    expect(text).not.toContain(missing);
    expect(text).not.toMatch(/route="\/static\/app\./);

    expect(text).toMatch(/^medianest_build_info\{version="[^"]+",runtime="bun [^"]+"\} 1$/m);
    for (const name of [
      "nodejs_active_handles_total",
      "nodejs_active_requests_total",
      "nodejs_active_resources_total",
    ]) {
      expect(text).not.toContain(name);
    }
  });
});

describe("/metrics with MEDIANEST_METRICS_TOKEN", () => {
  const token = "0123456789abcdef0123456789abcdef";
  let guarded: TestApp;
  beforeAll(async () => {
    guarded = await createTestApp({ env: { MEDIANEST_METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  const refused: [string, Record<string, string>][] = [
    ["no Authorization header", {}],
    ["a wrong token", { authorization: `Bearer ${token.replace("0", "1")}` }],
    ["a token one character short", { authorization: `Bearer ${token.slice(0, -1)}` }],
    ["another scheme", { authorization: `Basic ${btoa(`prometheus:${token}`)}` }],
    ["the token without its scheme", { authorization: token }],
    ["a scheme without a token", { authorization: "Bearer" }],
  ];
  for (const [what, headers] of refused) {
    test(`${what} gets 401 with a Bearer challenge and no metrics`, async () => {
      const res = await guarded.request("/metrics", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const text = await res.text();
      expect(text).not.toContain("medianest_");
      expect(text).toContain("/metrics");
    });
  }

  test("the right bearer token gets the metrics", async () => {
    for (const scheme of ["Bearer", "bearer"]) {
      const res = await guarded.request("/metrics", { headers: { authorization: `${scheme} ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("# TYPE medianest_http_request_duration_seconds histogram");
    }
  });

  test("/healthz and /readyz stay open", async () => {
    expect((await guarded.request("/healthz")).status).toBe(200);
    expect((await guarded.request("/readyz")).status).toBe(200);
  });
});

describe("/metrics request histogram", () => {
  test("each series has cumulative buckets by le, +Inf equal to its count, and the sum of the durations", async () => {
    const before = await t.request("/metrics").then((r) => r.text());
    const count = (text: string) =>
      Number(
        /^medianest_http_request_duration_seconds_count\{method="GET",route="\/readyz",status="200"\} (\d+)$/m.exec(
          text,
        )?.[1] ?? 0,
      );
    for (let i = 0; i < 5; i++) expect((await t.request("/readyz")).status).toBe(200);
    const text = await t.request("/metrics").then((r) => r.text());
    expect(count(text) - count(before)).toBe(5);

    const lines = text.split("\n");
    const value = (prefix: string) =>
      lines
        .filter((l) => l.startsWith(prefix))
        .map((l) => [l.slice(prefix.length, l.indexOf(" ")), Number(l.split(" ")[1])] as const);
    const buckets = value('medianest_http_request_duration_seconds_bucket{le="').map(
      ([le, n]) => [le.split('"')[0]!, n, le] as const,
    );
    const readyz = buckets.filter(([, , rest]) => rest.endsWith('",method="GET",route="/readyz",status="200"}'));
    expect(readyz.map(([le]) => le)).toEqual([
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "+Inf",
    ]);
    for (let i = 1; i < readyz.length; i++) expect(readyz[i]![1]).toBeGreaterThanOrEqual(readyz[i - 1]![1]);
    expect(readyz.at(-1)![1]).toBe(count(text));
    const sum = value('medianest_http_request_duration_seconds_sum{method="GET",route="/readyz",status="200"}')[0]![1];
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(count(text) * 10);
  });
});

describe("security headers", () => {
  const cases: [string, () => Promise<Response>][] = [
    ["a page", () => t.request("/")],
    ["a 404", () => t.request("/no-such-page")],
    ["an /api 404", () => t.request("/api/no-such-thing")],
    ["a static file", async () => t.request((await homeAssets()).js)],
    ["a refused POST", () => t.request("/login", { method: "POST" })],
    ["an htmx fragment", () => t.request("/login", { headers: { "hx-request": "true" } })],
    ["a HEAD of a page", () => t.request("/", { method: "HEAD" })],
  ];
  for (const [what, get] of cases) {
    test(`on ${what}: strict CSP, nosniff, no framing`, async () => {
      const res = await get();
      const policy = csp(res);
      expect(policy.get("script-src")).toEqual(["'self'"]);
      expect(policy.get("script-src")).not.toContain("'unsafe-inline'");
      expect(policy.get("default-src")).toEqual(["'self'"]);
      expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
      expect(policy.get("object-src")).toEqual(["'none'"]);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    });
  }
});

describe("static assets", () => {
  test("are served at their hashed URL with immutable caching and the right bytes", async () => {
    const { css, js } = await homeAssets();
    for (const [url, file, type] of [
      [css, "app.css", "text/css"],
      [js, "app.js", "text/javascript"],
    ] as const) {
      const res = await t.request(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("content-type")).toContain(type);
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), readFileSync(join(PUBLIC, file)))).toBe(0);
    }
  });

  test("an unknown hash or name is a 404 that is not cached forever", async () => {
    const { css } = await homeAssets();
    for (const url of [
      css.replace(/\.[0-9a-f]+\.css$/, ".0000000000.css"),
      "/static/app.css",
      "/static/nope.js",
      "/static/..%2Fpackage.json",
    ]) {
      const res = await t.request(url);
      expect({ url, status: res.status }).toEqual({ url, status: 404 });
      expect(res.headers.get("cache-control") ?? "").not.toContain("immutable");
    }
  });

  test("the manifest and icons are served at their stable names", async () => {
    for (const path of ["/manifest.webmanifest", "/icon-192.png", "/favicon.ico"]) {
      const res = await t.request(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    }
  });
});

describe("errors", () => {
  test("an unknown page is a 404 HTML page for browsers", async () => {
    const res = await t.request("/no-such-page");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toStartWith("<!DOCTYPE html>");
    expect(html).toContain("Not found");
    expect(html).toContain("There is no page at this address.");
  });

  test("under /api it is JSON {error}", async () => {
    const res = await t.request("/api/no-such-thing");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ error: "There is no page at this address." });
  });

  test("for htmx it is a fragment retargeted into the page's alert area", async () => {
    const res = await t.request("/no-such-page", { headers: { "HX-Request": "true" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("hx-retarget")).toBe("#alerts");
    expect(res.headers.get("hx-reswap")).toBe("innerHTML");
    const html = await res.text();
    expect(html).not.toContain("<html");
    expect(html).toContain('role="alert"');
    expect(html).toContain("There is no page at this address.");
  });

  test("a body over the limit gets 413 with a readable message, with or without Content-Length", async () => {
    const body = `username=${"x".repeat(5000)}&password=y`;
    const headers = { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" };
    for (const extra of [{ "content-length": String(body.length) }, {}] as Record<string, string>[]) {
      const res = await t.request("/login", { method: "POST", body, headers: { ...headers, ...extra } });
      expect(res.status).toBe(413);
      expect(await res.text()).toContain("The request is too large (limit 2 KiB).");
    }
    const api = await t.request("/api/v1/me", {
      method: "POST",
      body,
      headers: { ...headers, "content-length": String(body.length) },
    });
    expect(api.status).toBe(413);
    expect(await api.json()).toEqual({ error: "The request is too large (limit 2 KiB)." });
  });

  test("a chunked body over the limit is logged and counted as the 413 it is, not as an error", async () => {
    // Through a real server: Bun.serve stops reading a chunked body past maxRequestBodySize (serve.ts sets it to the
    // limit plus 1 KiB) and errors its stream, which app.request() cannot show.
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => t.app.fetch(req, { server: srv }),
      maxRequestBodySize: 2048 + 1024,
    });
    try {
      const count = async () =>
        Number(
          /medianest_http_request_duration_seconds_count\{method="POST",route="[^"]*",status="413"\} (\d+)/.exec(
            await (await t.request("/metrics")).text(),
          )?.[1] ?? 0,
        );
      const before = await count();
      logLines.length = 0;
      const chunk = new TextEncoder().encode(`username=${"x".repeat(4000)}`);
      const res = await fetch(`http://127.0.0.1:${server.port}/login`, {
        method: "POST",
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(chunk);
            controller.close();
          },
        }),
        headers: { origin: `http://127.0.0.1:${server.port}`, "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status).toBe(413);
      await res.arrayBuffer();
      const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.filter((e) => e.level === "error")).toEqual([]);
      expect(entries.filter((e) => e.msg === "request").map((e) => [e.path, e.status])).toEqual([["/login", 413]]);
      expect(await count()).toBe(before + 1);
    } finally {
      server.stop(true);
    }
  });

  const malformed: [string, string, string][] = [
    ["a multipart body that does not match its boundary", "multipart/form-data; boundary=zzz", "username=a&password=b"],
    ["a multipart body without a boundary", "multipart/form-data", "--zzz\r\nusername\r\n"],
    [
      "a multipart body cut short",
      "multipart/form-data; boundary=zzz",
      '--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1',
    ],
  ];
  for (const [what, type, body] of malformed) {
    test(`${what} is a 400 with a readable message, signed in or not, and no error in the log`, async () => {
      const browser = await signIn(t, await givenUser(t.deps));
      logLines.length = 0;
      for (const [path, headers] of [
        ["/login", {}],
        ["/logout", { cookie: browser.cookie }],
        ["/account/password", { cookie: browser.cookie, "x-csrf-token": browser.csrf }],
      ] as [string, Record<string, string>][]) {
        const res = await t.request(path, {
          method: "POST",
          body,
          headers: { origin: ORIGIN, "content-type": type, ...headers },
        });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(await res.text()).toContain("The form could not be read (");
      }
      const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.filter((e) => e.level !== "info")).toEqual([]);
      expect(logLines.join("\n")).not.toContain("stack");
    });
  }

  test("a JSON body that does not parse is a 400, as JSON under /api", async () => {
    logLines.length = 0;
    const page = await t.request("/login", {
      method: "POST",
      body: "{not json",
      headers: { origin: ORIGIN, "content-type": "application/json" },
    });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("The request body is not valid JSON");
    const api = await t.request("/api/v1/me", {
      method: "POST",
      body: '{"a":',
      headers: { origin: ORIGIN, "content-type": "application/json; charset=utf-8" },
    });
    expect(api.status).toBe(400);
    expect(((await api.json()) as { error: string }).error).toStartWith("The request body is not valid JSON");
    expect(logLines.map((l) => JSON.parse(l).level)).toEqual(["info", "info"]);
  });

  test("a well-formed multipart or JSON body still reaches the route", async () => {
    const fd = new FormData();
    fd.set("username", "nobody");
    fd.set("password", "wrong-password");
    const res = await t.request("/login", { method: "POST", body: fd, headers: { origin: ORIGIN } });
    expect(res.status).toBe(401);
    // The sign-in form reads no JSON: its fields are missing, which the route says itself.
    const json = await t.request("/login", {
      method: "POST",
      body: JSON.stringify({ username: "nobody" }),
      headers: { origin: ORIGIN, "content-type": "application/json" },
    });
    expect(json.status).toBe(422);
  });

  test("a body under the limit is read normally", async () => {
    const res = await t.request("/login", {
      method: "POST",
      body: `username=${"x".repeat(50)}&password=wrong`,
      headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(401);
  });
});

describe("CSRF", () => {
  const form = { "content-type": "application/x-www-form-urlencoded" };

  test("a POST from another site is refused", async () => {
    const res = await t.request("/login", {
      method: "POST",
      body: "username=a&password=b",
      headers: { ...form, origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("origin check failed");
  });

  test("a POST with neither Origin nor Referer is refused", async () => {
    const res = await t.request("/login", { method: "POST", body: "username=a&password=b", headers: form });
    expect(res.status).toBe(403);
  });

  test("a foreign or unparseable Referer is refused, never a 500", async () => {
    for (const referer of ["https://evil.example/page", "not a url", "http://localhost.evil.example/"]) {
      const res = await t.request("/login", {
        method: "POST",
        body: "username=a&password=b",
        headers: { ...form, referer },
      });
      expect({ referer, status: res.status }).toEqual({ referer, status: 403 });
    }
    expect(
      (
        await t.request("/login", {
          method: "POST",
          body: "username=a&password=b",
          headers: { ...form, origin: "null" },
        })
      ).status,
    ).toBe(403);
  });

  test("a same-site Origin or Referer passes the check", async () => {
    for (const headers of [{ origin: ORIGIN }, { referer: `${ORIGIN}/login?next=/` }] as Record<string, string>[]) {
      const res = await t.request("/login", {
        method: "POST",
        body: "username=a&password=wrong-password",
        headers: { ...form, ...headers },
      });
      expect(res.status).toBe(401);
    }
  });

  test("without a public URL, the origin of the address the request came to passes (today's behaviour)", async () => {
    const res = await t.request("http://rebound.example:8080/no-such-form", {
      method: "POST",
      body: "username=a&password=wrong-password",
      headers: { ...form, origin: "http://rebound.example:8080" },
    });
    expect(res.status).toBe(404);
  });

  // [what, request URL, headers, status]: 404 means the request passed the origin check and found no route.
  type OriginCase = [string, string, Record<string, string>, number];
  const publicUrlCases: [string, Record<string, string>, OriginCase[]][] = [
    [
      "with a public URL, only its origin passes; the Host header counts for nothing",
      { MEDIANEST_PUBLIC_URL: "https://media.example.org/" },
      [
        ["the public URL's origin", "/no-such-form", { origin: "https://media.example.org" }, 404],
        ["the origin of the Host the request came with", "/no-such-form", { origin: ORIGIN }, 403],
        [
          "a rebinding domain's origin, sent to that domain",
          "http://rebound.example:8080/no-such-form",
          { origin: "http://rebound.example:8080" },
          403,
        ],
        ["the public host over http", "/no-such-form", { origin: "http://media.example.org" }, 403],
        [
          "a forwarded host, from a proxy nobody said to trust",
          "/no-such-form",
          { origin: "http://media.lan", "x-forwarded-host": "media.lan", "x-forwarded-proto": "http" },
          403,
        ],
      ],
    ],
    [
      "with a public URL and a trusted proxy, the host the proxy forwarded passes too",
      { MEDIANEST_PUBLIC_URL: "https://media.example.org", MEDIANEST_TRUST_PROXY: "true" },
      [
        ["the public URL's origin", "/no-such-form", { origin: "https://media.example.org" }, 404],
        [
          "the forwarded host and protocol",
          "/no-such-form",
          { origin: "http://media.lan", "x-forwarded-host": "media.lan", "x-forwarded-proto": "http" },
          404,
        ],
        [
          "the forwarded host with the request's protocol",
          "/no-such-form",
          { origin: "http://media.lan", "x-forwarded-host": "media.lan" },
          404,
        ],
        [
          "the host the proxy wrote last, not one the client put before it",
          "/no-such-form",
          { origin: "http://evil.example", "x-forwarded-host": "evil.example, media.lan", "x-forwarded-proto": "http" },
          403,
        ],
        ["a host no proxy forwarded", "/no-such-form", { origin: "http://media.lan" }, 403],
        ["the origin of the Host alone", "/no-such-form", { origin: ORIGIN }, 403],
      ],
    ],
  ];
  for (const [what, env, cases] of publicUrlCases) {
    test(what, async () => {
      const app = await createTestApp({ env });
      try {
        await givenUser(app.deps, { role: "admin" });
        for (const [name, url, headers, status] of cases) {
          const res = await app.request(url, {
            method: "POST",
            body: "username=a&password=wrong-password",
            headers: { ...form, ...headers },
          });
          expect({ name, status: res.status }).toEqual({ name, status });
          if (status === 403) expect(await res.text()).toContain("Open MediaNest at https://media.example.org");
        }
      } finally {
        await app.close();
      }
    });
  }

  test("a signed-in POST without the session's token is refused, even from this site", async () => {
    const browser = await signIn(t, await givenUser(t.deps));
    const headers = { cookie: browser.cookie, origin: ORIGIN };

    const none = await t.request("/logout", { method: "POST", body: "", headers: { ...headers, ...form } });
    expect(none.status).toBe(403);
    expect(await none.text()).toContain("CSRF token mismatch");
    const wrong = await t.request("/logout", {
      method: "POST",
      body: "_csrf=" + "A".repeat(browser.csrf.length),
      headers: { ...headers, ...form },
    });
    expect(wrong.status).toBe(403);
    const wrongHeader = await t.request("/logout", {
      method: "POST",
      headers: { ...headers, "x-csrf-token": "short" },
    });
    expect(wrongHeader.status).toBe(403);
    const json = await t.request("/logout", {
      method: "POST",
      body: JSON.stringify({ _csrf: browser.csrf }),
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(json.status).toBe(403);

    // Still signed in: none of those reached the handler.
    expect(
      await findSessionByHash(t.deps.database, hashToken(browser.cookie.slice(SESSION_COOKIE.length + 1))),
    ).toBeDefined();
  });

  test("htmx gets the refusal as a fragment", async () => {
    const browser = await signIn(t, await givenUser(t.deps));
    const res = await t.request("/logout", {
      method: "POST",
      headers: { cookie: browser.cookie, origin: ORIGIN, "hx-request": "true" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("hx-retarget")).toBe("#alerts");
  });

  const passes: [string, (b: Awaited<ReturnType<typeof signIn>>) => RequestInit][] = [
    [
      "the _csrf form field",
      (b) => ({
        method: "POST",
        body: new URLSearchParams({ _csrf: b.csrf }),
        headers: { cookie: b.cookie, origin: ORIGIN, ...form },
      }),
    ],
    [
      "the _csrf field of a multipart form",
      (b) => {
        const fd = new FormData();
        fd.set("_csrf", b.csrf);
        return { method: "POST", body: fd, headers: { cookie: b.cookie, origin: ORIGIN } };
      },
    ],
    [
      "the X-CSRF-Token header",
      (b) => ({ method: "POST", headers: { cookie: b.cookie, origin: ORIGIN, "x-csrf-token": b.csrf } }),
    ],
  ];
  for (const [how, init] of passes) {
    test(`a signed-in POST with ${how} passes the check`, async () => {
      const browser = await signIn(t, await givenUser(t.deps));
      const res = await t.request("/logout", init(browser));
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/login");
      expect(
        await findSessionByHash(t.deps.database, hashToken(browser.cookie.slice(SESSION_COOKIE.length + 1))),
      ).toBeUndefined();
    });
  }
});

describe("request log", () => {
  test("writes one JSON line per request with method, path and status, and no query string", async () => {
    logLines.length = 0;
    await t.request("/?token=do-not-log-me", { headers: { "x-request-id": "req-123" } });
    await t.request("/no-such-page");
    await t.request("/login", { method: "POST", headers: { origin: "https://evil.example" } });
    await t.request("/healthz");
    await t.request("/metrics");

    const entries = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === "request");
    expect(entries.map((e) => [e.method, e.path, e.status])).toEqual([
      ["GET", "/", 200],
      ["GET", "/no-such-page", 404],
      ["POST", "/login", 403],
    ]);
    expect(entries[0]!.request_id).toBe("req-123");
    // The CSRF refusal answered before any route did: the route is the pipeline's own pattern, never the raw path.
    expect(entries.map((e) => e.route)).toEqual(["/", "unmatched", "/*"]);
    for (const e of entries) {
      expect(Object.keys(e).slice(0, 3)).toEqual(["time", "level", "msg"]);
      expect(e.level).toBe("info");
      expect(typeof e.duration_ms).toBe("number");
      expect(typeof e.time).toBe("string");
      expect(e.trace_id).toBeUndefined();
    }
    expect(logLines.join("\n")).not.toContain("do-not-log-me");
  });

  test("names the signed-in user", async () => {
    const user = await givenUser(t.deps);
    const browser = await signIn(t, user);
    logLines.length = 0;
    await browser.get("/account");
    const entry = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.msg === "request");
    expect(entry).toMatchObject({ method: "GET", path: "/account", status: 200, user: user.username });
  });
});

describe("page areas", () => {
  test("a route outside its area's first segments is named, so the area is refused when it loads", () => {
    const routes = [
      { method: "ALL", path: "/*" },
      { method: "GET", path: "/" },
      { method: "GET", path: "/dashboard/status" },
      { method: "POST", path: "/admin/users/:id" },
      { method: "POST", path: "/admin/users/:id" },
      { method: "GET", path: "/dashboards" },
    ];
    expect(routesOutside(["", "dashboard"], routes)).toEqual(["POST /admin/users/:id", "GET /dashboards"]);
    expect(routesOutside(["", "dashboard", "admin", "dashboards"], routes)).toEqual([]);
  });
});
