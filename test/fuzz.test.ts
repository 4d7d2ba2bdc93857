// Every route of the real app's route table gets generated bad input (random, huge, unicode and NUL strings, wrong
// types, repeated keys, missing fields, wrong and lying content types, malformed forms, multipart and JSON, path
// parameters that are no ids, odd query strings) as anonymous, member, admin and a member's API token, with a valid
// CSRF token and Origin so the handlers are reached. No answer may be a 5xx, and a refused (4xx) request may change
// no stored row. Routes are read from the app, so a route added later is fuzzed without editing this file.
// FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<n> sets the inputs per route and caller.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { savePlexServer } from "../src/services/auth-settings";
import { saveKumaIntegration, saveSeerrIntegration } from "../src/services/integrations";
import { createApiToken } from "../src/services/api-tokens";
import { webhookAuthHeader, webhookSecret } from "../src/services/seerr-webhook";
import { plexMovie, plexSection, startFakePlexServer, type FakePlexServer } from "./fakes/plex-server";
import { startFakePlexTv, type FakePlexTv } from "./fakes/plex-tv";
import { seerrMovie, startFakeSeerr, type FakeSeerr } from "./fakes/seerr";
import { startFakeUptimeKuma, type FakeUptimeKuma } from "./fakes/uptime-kuma";
import { dumpTables, firstDifference } from "./helpers/db-dump";
import { createTestApp, givenUser, ORIGIN, signIn, type Browser, type TestApp } from "./helpers/test-app";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const MACHINE = "fuzz-machine-0000111122223333";
const OWNER_TOKEN = "fuzz-owner-token";
const SEERR_KEY = "fuzz-seerr-key";
const KUMA_KEY = "uk1_fuzz-kuma-key";

type Caller = "anonymous" | "member" | "admin" | "token";

interface Route {
  method: string;
  path: string;
}

/** encodeURIComponent that does not throw on a lone surrogate. */
function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "\uFFFD"));
  }
}

// Strings a person or a script might send: random ones of every kind, and the classics.
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
    "__proto__",
    "constructor",
    "../../../../etc/passwd",
    "%00",
    "%zz",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\uFEFF",
    "\uD800",
    "\u202E",
    "http://127.0.0.1:1/",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "00000000-0000-0000-0000-000000000000",
    "9".repeat(400),
    "user@example.com",
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.integer({ min: 10, max: 21 }).map((n) => "x".repeat(2 ** n)),
);

// Path parameters that are not ids of anything (ids of other people's rows are test/ownership.test.ts's business).
const badParam = fc.oneof(
  nasty.filter((s) => s.length > 0 && s.length < 3000).map(encodeSegment),
  fc.constantFrom("..", "%2e%2e", "%2F", "%00", "-1", "0", "1", "99999999999999999999", "%E0%A4%A", "a%20b", "%C0%AF"),
);

function concrete(path: string, params: string[]): string {
  let i = 0;
  return path.replace(/:[a-zA-Z]+(\{[^}]*\})?\??/g, () => params[i++ % params.length]!);
}

type Body =
  | { kind: "none" }
  | { kind: "urlencoded" | "multipart"; fields: [string, string][]; file: boolean }
  | { kind: "json"; value: unknown }
  | { kind: "raw"; contentType: string | undefined; text: string };

function bodyArb(names: string[]): fc.Arbitrary<Body> {
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, fc.string({ maxLength: 12 }));
  const fields = fc
    .array(fc.tuple(name, nasty), { maxLength: 10 })
    // Repeated keys: the same field again with another value.
    .chain((list) =>
      list.length === 0
        ? fc.constant(list)
        : fc
            .array(nasty, { maxLength: 3 })
            .map((extra) => [...list, ...extra.map((v) => [list[0]![0], v] as [string, string])]),
    );
  const jsonValue = fc.oneof(
    fc.dictionary(name, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(name, nasty, { maxKeys: 8 }),
  );
  const raw = fc.record({
    contentType: fc.constantFrom(
      undefined,
      "text/plain",
      "application/xml",
      "application/json",
      "application/json; charset=utf-7",
      "application/vnd.api+json",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=xyz",
      "multipart/form-data; boundary=",
      "application/octet-stream",
      "../../",
    ),
    text: fc.oneof(
      nasty,
      fc.constantFrom(
        "{",
        '{"a":',
        "[1,2",
        '{"__proto__":{"admin":true}}',
        '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb',
        "--xyz\r\nContent-Disposition: form-data\r\n\r\n--xyz--",
        "--xyz--\r\n",
        "a=%zz&b=%",
        "a=1&a=2&a[]=3&a[b]=4",
        "%",
        "\u0000\u0000",
      ),
    ),
  });
  return fc.oneof(
    fc.constant<Body>({ kind: "none" }),
    fc.record({ kind: fc.constant("urlencoded" as const), fields, file: fc.constant(false) }),
    fc.record({ kind: fc.constant("multipart" as const), fields, file: fc.boolean() }),
    jsonValue.map((value): Body => ({ kind: "json", value })),
    raw.map((r): Body => ({ kind: "raw", ...r })),
  );
}

interface Input {
  caller: Caller;
  params: string[];
  query: [string, string][];
  body: Body;
  /** Send the session's CSRF token as the form field instead of the header. */
  csrfInForm: boolean;
}

function inputArb(names: string[], callers: Caller[]): fc.Arbitrary<Input> {
  return fc.record({
    caller: fc.constantFrom(...callers),
    params: fc.array(badParam, { minLength: 1, maxLength: 3 }),
    query: fc.array(fc.tuple(fc.constantFrom(...names, "q", "page", "next", "url", "id"), nasty), { maxLength: 3 }),
    body: bodyArb(names),
    csrfInForm: fc.boolean(),
  });
}

function describeInput(route: Route, input: Input): string {
  const body = JSON.stringify(input.body, (_k, v) =>
    typeof v === "string" && v.length > 200 ? `${v.slice(0, 40)}…(${v.length})` : v,
  );
  return `${route.method} ${route.path} as ${input.caller}, params ${JSON.stringify(input.params.map((p) => p.slice(0, 60)))}, body ${body.slice(0, 600)}`;
}

describe("fuzzing every route", () => {
  let t: TestApp;
  let plextv: FakePlexTv;
  let plex: FakePlexServer;
  let seerr: FakeSeerr;
  let kuma: FakeUptimeKuma;
  let routes: Route[];
  const names = new Set<string>([
    "_csrf",
    "name",
    "title",
    "url",
    "password",
    "username",
    "role",
    "id",
    "kind",
    "value",
  ]);
  const callers: Record<Exclude<Caller, "anonymous">, Browser | string> = {} as never;
  const logLines: string[] = [];

  beforeAll(async () => {
    plextv = startFakePlexTv();
    plex = startFakePlexServer({
      machineIdentifier: MACHINE,
      ownerToken: OWNER_TOKEN,
      sections: [plexSection({ key: "1", type: "movie", title: "Movies" })],
      items: [plexMovie({ ratingKey: "100", title: "Heat", librarySectionID: 1 })],
    });
    seerr = startFakeSeerr({ apiKey: SEERR_KEY, movies: [seerrMovie({ id: 603, title: "The Matrix" })] });
    kuma = startFakeUptimeKuma({ slug: "home", apiKey: KUMA_KEY });
    t = await createTestApp({ env: { MEDIANEST_PLEX_TV_URL: plextv.url }, logLines });
    await savePlexServer(t.deps, { machineIdentifier: MACHINE, name: "Home", url: plex.url, ownerToken: OWNER_TOKEN });
    await saveSeerrIntegration(t.deps, { url: seerr.url, apiKey: SEERR_KEY });
    await saveKumaIntegration(t.deps, { url: kuma.url, slug: "home", apiKey: KUMA_KEY });
    const admin = await givenUser(t.deps, { role: "admin" });
    const member = await givenUser(t.deps, { role: "user" });
    callers.admin = await signIn(t, admin);
    callers.member = await signIn(t, member);
    callers.token = (await createApiToken(t.deps, member, "fuzz")).raw;
    const seen = new Set<string>();
    routes = [];
    for (const r of await t.app.routes()) {
      if (r.method === "ALL" || seen.has(`${r.method} ${r.path}`)) continue;
      seen.add(`${r.method} ${r.path}`);
      routes.push({ method: r.method, path: r.path });
    }
    // The field names the app's own forms use, read from every page without parameters as the admin sees it.
    for (const r of routes) {
      if (r.method !== "GET" || r.path.includes(":") || r.path === "/events") continue;
      const res = await (callers.admin as Browser).get(r.path);
      const html = await res.text();
      for (const m of html.matchAll(/\bname="([^"]{1,40})"/g)) names.add(m[1]!);
    }
    console.log(
      `fuzz: seed ${SEED}, ${RUNS} runs per route and caller, ${routes.length} routes, ${names.size} field names`,
    );
  });

  afterAll(async () => {
    await t.close();
    await Promise.all([plextv.stop(), plex.stop(), seerr.stop(), kuma.stop()]);
  });

  async function send(route: Route, input: Input): Promise<Response> {
    const who = input.caller;
    const browser = who === "member" || who === "admin" ? (callers[who] as Browser) : undefined;
    const headers: Record<string, string> = { origin: ORIGIN };
    if (browser) headers.cookie = browser.cookie;
    if (browser && !input.csrfInForm) headers["x-csrf-token"] = browser.csrf;
    // Under /api/v1/webhooks/ the "token" is the webhook's own secret, so the payload parser is reached.
    if (who === "token")
      headers.authorization = route.path.startsWith("/api/v1/webhooks/")
        ? webhookAuthHeader(await webhookSecret(t.deps))
        : `Bearer ${callers.token as string}`;
    const url = new URL(concrete(route.path, input.params), ORIGIN);
    for (const [k, v] of input.query) url.searchParams.append(k, v);
    let body: BodyInit | undefined;
    const b = route.method === "GET" || route.method === "HEAD" ? ({ kind: "none" } as Body) : input.body;
    if (b.kind === "urlencoded") {
      const form = new URLSearchParams(b.fields);
      if (browser) form.set("_csrf", browser.csrf);
      body = form;
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (b.kind === "multipart") {
      const form = new FormData();
      for (const [k, v] of b.fields) form.append(k, v);
      if (b.file) form.append(b.fields[0]?.[0] ?? "file", new File(["\u0000binary"], "../../x.bin"));
      if (browser) form.set("_csrf", browser.csrf);
      body = form;
    } else if (b.kind === "json") {
      body = JSON.stringify(b.value);
      headers["content-type"] = "application/json";
    } else if (b.kind === "raw") {
      body = b.text;
      if (b.contentType) headers["content-type"] = b.contentType;
    }
    if (browser && input.csrfInForm && !(b.kind === "urlencoded" || b.kind === "multipart"))
      headers["x-csrf-token"] = browser.csrf;
    const res = await t.request(url.toString(), { method: route.method, headers, body });
    return res;
  }

  test("no route answers 5xx or changes a row when it refuses, whoever asks and whatever is sent", async () => {
    const problems: string[] = [];
    const statuses = new Set<number>();
    for (const [index, route] of routes.entries()) {
      const all: Caller[] = route.path.startsWith("/api/")
        ? ["anonymous", "member", "admin", "token"]
        : ["anonymous", "member", "admin"];
      await fc
        .assert(
          fc.asyncProperty(inputArb([...names], all), async (input) => {
            if (input.caller === "token" && route.path.startsWith("/api/v1/webhooks/")) await webhookSecret(t.deps);
            const before = dumpTables(t);
            const res = await send(route, input);
            // The SSE stream never ends: its answer is judged by the status, the body left unread.
            let answer: { error?: unknown } | undefined;
            const type = res.headers.get("content-type") ?? "";
            if (type.includes("text/event-stream")) await res.body?.cancel();
            else if (type.startsWith("application/json")) answer = await res.json().catch(() => undefined);
            else await res.arrayBuffer();
            statuses.add(res.status);
            const label = describeInput(route, input);
            // The JSON API says an upstream is not connected (an earlier route's accepted input may have changed
            // the integrations) or failing with 502/503 and its words; MediaNest's own failures start "MediaNest".
            const upstream =
              (res.status === 502 || res.status === 503) &&
              route.path.startsWith("/api/") &&
              typeof answer?.error === "string" &&
              !answer.error.startsWith("MediaNest");
            if (res.status >= 500 && !upstream) {
              problems.push(`${label} → ${res.status}`);
              return false;
            }
            if (res.status >= 400) {
              const after = dumpTables(t);
              if (after !== before) {
                problems.push(`${label} → ${res.status} changed ${firstDifference(before, after)}`);
                return false;
              }
            }
            return true;
          }),
          // Each route its own sequence of inputs, all derived from the one seed.
          { seed: SEED + index, numRuns: RUNS * all.length, endOnFailure: true },
        )
        .catch((err: Error) => {
          problems.push(`seed ${SEED + index}: ${err.message.split("\n").slice(0, 4).join(" | ")}`);
        });
      // A route that ended a session (logout, a password change) must not leave the next routes unsigned-in.
      for (const who of ["member", "admin"] as const) {
        const b = callers[who] as Browser;
        if ((await t.request("/account", { headers: { cookie: b.cookie } })).status !== 200)
          callers[who] = await signIn(t, b.user);
      }
    }
    if (problems.length) console.error(`fuzz: failed with seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);
    expect(problems).toEqual([]);
    // The inputs got past the CSRF check to the body layer (400, 413), the validators (422) and the handlers.
    for (const s of [200, 303, 400, 404, 413, 422]) expect(statuses).toContain(s);
    // Its time grows with the route table (every route, every caller, RUNS inputs each).
  }, 600_000);
});
