import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import type { Configuration, InteractionResults } from "oidc-provider";
import { CookieJar } from "../../test/helpers/cookie-jar";
import { createTestApp, givenUser, ORIGIN, signIn, type TestApp } from "../../test/helpers/test-app";
import { saveAuthSettings, NO_QUOTAS } from "../services/auth-settings";
import { saveOidcSettings, type OidcSettings } from "../services/oidc";
import { DEFAULT_PERMISSIONS } from "../services/permissions";
import { LIMITS } from "../services/rate-limit";
import { SESSION_COOKIE } from "../services/sessions";
import { listAuditEntries } from "../store/audit";
import { listSessionsByUser } from "../store/sessions";
import { findUserByOidc, listUsers, updateUser, type User } from "../store/users";

// oidc-provider warns on load (it names Bun an unsupported runtime) and on start (its in-memory adapter is for
// development only): expected here, so captured instead of printed, and a clean run reads clean.
const providerWarnings: string[] = [];
async function quietly<T>(run: () => T | Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void providerWarnings.push(args.map(String).join(" "));
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}
const { default: Provider } = await quietly(() => import("oidc-provider"));

// A real OpenID Provider (panva's oidc-provider v9, the certified Node.js implementation) runs on a loopback port.
// It warns that Bun is an "unsupported runtime" but works: discovery, PKCE, consent, signed ID tokens, UserInfo.
// Login and consent are finished by a small interaction handler that signs in whichever account a test chose.

const CALLBACK = `${ORIGIN}/auth/oidc/callback`;
const CLIENTS = {
  medianest: { secret: "medianest-client-secret-0123456789" },
  "other-app": { secret: "other-app-client-secret-0123456789" },
  "medianest-ec": { secret: "medianest-ec-client-secret-012345" },
} as const;

interface Person {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

const ALICE: Person = {
  sub: "alice-0001",
  preferred_username: "alice",
  name: "Alice Liddell",
  email: "alice@example.com",
  groups: ["family"],
};
const BOB: Person = {
  sub: "bob-0002",
  preferred_username: "bob",
  name: "Bob Builder",
  email: "bob@example.com",
  groups: ["family", "medianest-admins"],
};
// Wants the user name an existing local account already has; only an email to derive one from.
const CAROL: Person = { sub: "carol-0003", email: "owner@example.com", name: "Carol" };

interface TestProvider {
  issuer: string;
  people: Map<string, Person>;
  /** Who the next login at the provider is. */
  loginAs: string;
  /** Refuse at the interaction with error=access_denied. */
  deny: boolean;
  /** Play a provider (or man in the middle) that hands MediaNest tokens minted for another client. */
  swapClient: boolean;
  /** Replace the nonce of the authorization request on its way in, as an attacker replaying another flow would. */
  swapNonce: boolean;
  /** Rewrite the ID token's subject in the token response, keeping the provider's signature. */
  forgeSubject: string | undefined;
  stop(): Promise<void>;
}

async function startProvider(): Promise<TestProvider> {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: TestProvider = {
    issuer,
    people: new Map([ALICE, BOB, CAROL].map((p) => [p.sub, { ...p }])),
    loginAs: ALICE.sub,
    deny: false,
    swapClient: false,
    swapNonce: false,
    forgeSubject: undefined,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const configuration: Configuration = {
    clients: [
      { client_id: "medianest", client_secret: CLIENTS.medianest.secret, redirect_uris: [CALLBACK] },
      { client_id: "other-app", client_secret: CLIENTS["other-app"].secret, redirect_uris: [CALLBACK] },
      {
        client_id: "medianest-ec",
        client_secret: CLIENTS["medianest-ec"].secret,
        redirect_uris: [CALLBACK],
        id_token_signed_response_alg: "ES256",
      },
    ],
    jwks: {
      keys: [
        { ...rsa, kid: "rsa-1", use: "sig", alg: "RS256" },
        { ...ec, kid: "ec-1", use: "sig", alg: "ES256" },
      ] as never,
    },
    cookies: { keys: ["oidc-test-cookie-key"] },
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email"], groups: ["groups"] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    findAccount: (_ctx, sub) => {
      const person = state.people.get(sub);
      return person ? { accountId: sub, claims: () => ({ ...person }) } : undefined;
    },
  };
  const provider = await quietly(() => new Provider(issuer, configuration));
  const handle = provider.callback();

  async function interact(req: http.IncomingMessage, res: http.ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    let result: InteractionResults;
    if (state.deny) {
      result = { error: "access_denied", error_description: "The person declined." };
    } else if (details.prompt.name === "login") {
      result = { login: { accountId: state.loginAs } };
    } else {
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
  }

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", issuer);
    if (url.pathname.startsWith("/interaction/")) {
      interact(req, res).catch((err: Error) => {
        res.statusCode = 500;
        res.end(err.message);
      });
      return;
    }
    if (state.swapClient && url.pathname === "/auth" && url.searchParams.get("client_id") === "medianest") {
      url.searchParams.set("client_id", "other-app");
      req.url = url.pathname + url.search;
    }
    if (state.swapNonce && url.pathname === "/auth" && url.searchParams.has("nonce")) {
      url.searchParams.set("nonce", "nonce-of-another-sign-in-0123456789");
      req.url = url.pathname + url.search;
    }
    if (req.method === "POST" && url.pathname === "/token") {
      if (state.swapClient) req.headers.authorization = `Basic ${btoa(`other-app:${CLIENTS["other-app"].secret}`)}`;
      if (state.forgeSubject) {
        const forged = state.forgeSubject;
        const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
        res.end = ((chunk?: unknown) => {
          const body = JSON.parse(String(chunk)) as { id_token: string };
          const [h, p, s] = body.id_token.split(".");
          const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
          claims.sub = forged;
          body.id_token = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
          const text = JSON.stringify(body);
          res.setHeader("content-length", Buffer.byteLength(text));
          return end(text);
        }) as typeof res.end;
      }
    }
    handle(req, res);
  });
  return state;
}

/** Follow the provider's redirects with a cookie jar of its own until it sends the browser back to MediaNest. */
async function throughProvider(url: string): Promise<string> {
  const jar = new Map<string, string>();
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(ORIGIN)) return url;
    const res = await fetch(url, {
      redirect: "manual",
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const location = res.headers.get("location");
    if (!location)
      throw new Error(
        `test provider: no redirect from ${url} (status ${res.status}): ${(await res.text()).slice(0, 300)}`,
      );
    await res.body?.cancel();
    url = new URL(location, url).toString();
  }
  throw new Error("test provider: too many redirects");
}

describe("OIDC sign-in against a real OpenID Provider", () => {
  let op: TestProvider;
  let t: TestApp;
  let owner: User;

  // The provider's cookie signing (tsscmp) calls a deprecated crypto function; Node prints that once, so it is
  // silenced while this provider runs and the printing restored after.
  const deprecations = process.noDeprecation;
  beforeAll(async () => {
    process.noDeprecation = true;
    op = await startProvider();
  });
  afterAll(async () => {
    await op.stop();
    process.noDeprecation = deprecations;
  });
  beforeEach(async () => {
    op.loginAs = ALICE.sub;
    op.deny = false;
    op.swapClient = false;
    op.swapNonce = false;
    op.forgeSubject = undefined;
    for (const p of [ALICE, BOB, CAROL]) op.people.set(p.sub, { ...p });
    // Some flows log warnings on purpose (the last admin kept): captured, not printed.
    t = await createTestApp({ logLines: [] });
    owner = await givenUser(t.deps, { role: "admin", username: "owner" });
    await configure({});
  });
  afterEach(async () => {
    await t.close();
  });

  async function configure(patch: Partial<OidcSettings>) {
    await saveOidcSettings(t.deps, {
      issuer: op.issuer,
      clientId: "medianest",
      clientSecret: CLIENTS.medianest.secret,
      displayName: "Test IdP",
      groupClaim: "",
      adminGroup: "",
      ...patch,
    });
    // Settings changed under a running app: forget the cached discovery document.
    await t.deps.coordination.cache.delete(`oidc:discovery:${patch.issuer ?? op.issuer}`);
  }

  /** Press "Sign in with Test IdP" in a fresh browser and come back to the callback. */
  async function signInWithProvider(next = "/account") {
    const jar = new CookieJar(t);
    const start = await jar.get(`/auth/oidc/start?next=${encodeURIComponent(next)}`);
    expect(start.status).toBe(302);
    const pendingCookie = jar.cookies.get("mn_oidc");
    const callbackUrl = await throughProvider(start.headers.get("location")!);
    const callback = await jar.get(callbackUrl);
    return { jar, start, callbackUrl, callback, pendingCookie };
  }

  async function sessionsOf(user: Pick<User, "id">) {
    return listSessionsByUser(t.deps.database, user.id);
  }

  async function failures() {
    return (await listAuditEntries(t.deps.database, { action: "signin.failure" })).entries;
  }

  test("the login page offers the provider; the start sends the browser there with PKCE, state and nonce", async () => {
    const login = await t.request("/login?next=/account");
    expect(await login.text()).toContain(`href="/auth/oidc/start?next=%2Faccount"`);

    const start = await t.request("/auth/oidc/start?next=/account");
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(`${op.issuer}/auth`);
    expect(to.searchParams.get("client_id")).toBe("medianest");
    expect(to.searchParams.get("redirect_uri")).toBe(CALLBACK);
    expect(to.searchParams.get("code_challenge_method")).toBe("S256");
    expect(to.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get("state")!.length).toBeGreaterThanOrEqual(32);
    expect(to.searchParams.get("nonce")!.length).toBeGreaterThanOrEqual(32);
    expect(to.searchParams.get("scope")).toBe("openid profile email");

    const cookie = start.headers.getSetCookie().find((c) => c.startsWith("mn_oidc="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/auth/oidc");
    expect(cookie).toMatch(/Max-Age=600/);
    // Sealed: neither the state nor the verifier can be read from the cookie.
    expect(cookie).not.toContain(to.searchParams.get("state")!);
  });

  test("the full code flow creates the user, starts a session and lands on next", async () => {
    const { jar, callback } = await signInWithProvider("/account");
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).toBe("/account");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(true);
    expect(jar.cookies.has("mn_oidc")).toBe(false);

    const user = (await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!;
    expect(user).toMatchObject({
      username: "alice",
      displayName: "Alice Liddell",
      email: "alice@example.com",
      role: "user",
      status: "active",
    });
    expect(user.lastLoginAt).toBeInstanceOf(Date);

    const account = await jar.get("/account");
    expect(account.status).toBe(200);
    expect(await account.text()).toContain("Alice Liddell");

    const { entries } = await listAuditEntries(t.deps.database, {});
    const success = entries.find((e) => e.action === "signin.success")!;
    expect(success).toMatchObject({ actorName: "alice", targetId: user.id });
    expect(success.detail).toMatchObject({ method: "oidc" });
    expect(entries.some((e) => e.action === "user.create")).toBe(true);
    expect(JSON.stringify(entries)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  test("the same subject signs into the same user again; a taken name gets a free one", async () => {
    await signInWithProvider();
    const again = await signInWithProvider();
    expect(again.callback.status).toBe(303);
    const alice = (await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!;
    expect((await sessionsOf(alice)).length).toBe(2);

    op.loginAs = CAROL.sub;
    expect((await signInWithProvider()).callback.status).toBe(303);
    const carol = (await findUserByOidc(t.deps.database, op.issuer, CAROL.sub))!;
    expect(carol.username).toBe("owner-2");
    expect(carol.id).not.toBe(owner.id);
    expect((await listUsers(t.deps.database)).total).toBe(3);
  });

  test("membership of the admin group makes an admin; leaving it demotes, except the last active admin", async () => {
    await configure({ groupClaim: "groups", adminGroup: "medianest-admins" });
    const start = await t.request("/auth/oidc/start");
    expect(new URL(start.headers.get("location")!).searchParams.get("scope")).toBe("openid profile email groups");

    op.loginAs = BOB.sub;
    expect((await signInWithProvider()).callback.status).toBe(303);
    let bob = (await findUserByOidc(t.deps.database, op.issuer, BOB.sub))!;
    expect(bob.role).toBe("admin");

    op.loginAs = ALICE.sub;
    await signInWithProvider();
    expect((await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!.role).toBe("user");

    op.loginAs = BOB.sub;
    op.people.set(BOB.sub, { ...BOB, groups: ["family"] });
    await signInWithProvider();
    bob = (await findUserByOidc(t.deps.database, op.issuer, BOB.sub))!;
    expect(bob.role).toBe("user");
    const roleChange = (await listAuditEntries(t.deps.database, { action: "user.role_change" })).entries[0]!;
    expect(roleChange.detail).toMatchObject({ from: "admin", to: "user" });

    // Back in the group, then the owner steps down: Bob is now the only active admin and keeps the role.
    op.people.set(BOB.sub, { ...BOB });
    await signInWithProvider();
    expect((await findUserByOidc(t.deps.database, op.issuer, BOB.sub))!.role).toBe("admin");
    await updateUser(t.deps.database, owner.id, { role: "user" });
    op.people.set(BOB.sub, { ...BOB, groups: [] });
    expect((await signInWithProvider()).callback.status).toBe(303);
    expect((await findUserByOidc(t.deps.database, op.issuer, BOB.sub))!.role).toBe("admin");
  });

  test("an ID token minted for another client is refused (audience)", async () => {
    op.swapClient = true;
    const { jar, callback } = await signInWithProvider();
    expect(callback.status).toBe(403);
    const html = await callback.text();
    expect(html).toContain("issued for another application");
    expect(html).toContain("other-app");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await findUserByOidc(t.deps.database, op.issuer, ALICE.sub)).toBeUndefined();
    expect((await failures())[0]!.detail).toMatchObject({ method: "oidc" });
    expect(String((await failures())[0]!.detail.reason)).toContain("audience");
  });

  test("an ID token carrying another sign-in's nonce is refused", async () => {
    op.swapNonce = true;
    const { jar, callback } = await signInWithProvider();
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain("nonce does not match");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await findUserByOidc(t.deps.database, op.issuer, ALICE.sub)).toBeUndefined();
  });

  test("an ID token whose claims were altered after signing is refused (signature)", async () => {
    await signInWithProvider();
    op.loginAs = CAROL.sub;
    op.forgeSubject = ALICE.sub;
    const { jar, callback } = await signInWithProvider();
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain("signature does not match");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    const alice = (await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!;
    expect((await sessionsOf(alice)).length).toBe(1);
  });

  test("ES256-signed ID tokens are verified against the published EC key", async () => {
    await configure({ clientId: "medianest-ec", clientSecret: CLIENTS["medianest-ec"].secret });
    expect((await signInWithProvider()).callback.status).toBe(303);
    op.loginAs = CAROL.sub;
    op.forgeSubject = ALICE.sub;
    const forged = (await signInWithProvider()).callback;
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("signature does not match");
  });

  test("a replayed callback is refused and starts no second session", async () => {
    const first = await signInWithProvider();
    expect(first.callback.status).toBe(303);
    const alice = (await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!;

    // The same browser, whose state cookie is gone now.
    const replay = await first.jar.get(first.callbackUrl);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("expired, was already used");

    // An attacker who also kept a copy of the state cookie.
    const withCookie = await t.request(first.callbackUrl, { headers: { cookie: `mn_oidc=${first.pendingCookie}` } });
    expect(withCookie.status).toBe(400);
    expect(await withCookie.text()).toContain("already used");
    expect(
      withCookie.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.includes("Max-Age=0")),
    ).toBe(false);
    expect((await sessionsOf(alice)).length).toBe(1);
  });

  test("forged callbacks are rate limited per address, so they cannot flood the audit log", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await t.request(`/auth/oidc/callback?state=forged${i}&code=x`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 400)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  test("a missing, tampered or foreign state cookie is refused", async () => {
    const jar = new CookieJar(t);
    const start = await jar.get("/auth/oidc/start");
    const callbackUrl = await throughProvider(start.headers.get("location")!);
    const sealed = jar.cookies.get("mn_oidc")!;

    const missing = await t.request(callbackUrl);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain("Start again");

    // Change one character of the ciphertext (not the last, whose low bits may be padding).
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === "A" ? "B" : "A") + sealed.slice(-2);
    expect(flipped).not.toBe(sealed);
    const tampered = await t.request(callbackUrl, { headers: { cookie: `mn_oidc=${flipped}` } });
    expect(tampered.status).toBe(400);

    // Another browser's sign-in: a valid cookie, but its state is not this answer's.
    const other = new CookieJar(t);
    await other.get("/auth/oidc/start");
    const foreign = await t.request(callbackUrl, { headers: { cookie: `mn_oidc=${other.cookies.get("mn_oidc")}` } });
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toContain("does not belong to the sign-in this browser started");

    expect(await findUserByOidc(t.deps.database, op.issuer, ALICE.sub)).toBeUndefined();
    // The honest browser still finishes: the refusals above did not use up its state.
    expect((await jar.get(callbackUrl)).status).toBe(303);
    expect((await failures()).length).toBe(3);
  });

  test("error=access_denied from the provider gives a clear page", async () => {
    op.deny = true;
    const { callbackUrl, callback } = await signInWithProvider();
    expect(new URL(callbackUrl).searchParams.get("error")).toBe("access_denied");
    expect(callback.status).toBe(403);
    const html = await callback.text();
    expect(html).toContain("You cancelled the sign-in, or Test IdP did not allow it.");
    expect(html).toContain(`href="/auth/oidc/start?next=%2Faccount"`);
    expect((await failures())[0]!.detail).toMatchObject({ method: "oidc", reason: "provider error: access_denied" });
  });

  test("with automatic accounts off, an unknown person is refused", async () => {
    await saveAuthSettings(t.deps, {
      autoCreate: false,
      defaultPermissions: [...DEFAULT_PERMISSIONS],
      defaultQuotas: NO_QUOTAS,
    });
    const { jar, callback } = await signInWithProvider();
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain("only lets in people the owner has added");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await findUserByOidc(t.deps.database, op.issuer, ALICE.sub)).toBeUndefined();
    expect((await failures())[0]!.detail).toMatchObject({ method: "oidc", reason: "no account", username: "alice" });
  });

  test("a disabled user is refused", async () => {
    await signInWithProvider();
    const alice = (await findUserByOidc(t.deps.database, op.issuer, ALICE.sub))!;
    await updateUser(t.deps.database, alice.id, { status: "disabled" });
    const { jar, callback } = await signInWithProvider();
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain("disabled");
    expect(jar.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await sessionsOf(alice)).length).toBe(1);
  });

  test("a wrong client secret and an issuer mismatch become readable provider errors (502)", async () => {
    await configure({ clientSecret: "not-the-right-secret-at-all-000000" });
    const badSecret = await signInWithProvider();
    expect(badSecret.callback.status).toBe(502);
    expect(await badSecret.callback.text()).toContain("Test IdP refused the sign-in (invalid_client)");

    // The provider calls itself 127.0.0.1; an admin who typed localhost gets told so before anyone leaves.
    const localhost = op.issuer.replace("127.0.0.1", "localhost");
    await configure({ issuer: localhost });
    const start = await t.request("/auth/oidc/start");
    expect(start.status).toBe(502);
    expect(await start.text()).toContain(`names its issuer “${op.issuer}”`);

    // A trailing slash is the same issuer.
    await configure({ issuer: `${op.issuer}/` });
    expect((await signInWithProvider()).callback.status).toBe(303);
  });

  test("start and callback without single sign-on configured, and too many starts, answer clearly", async () => {
    await t.deps.database.db
      .delete(t.deps.database.tables.settings)
      .where(eq(t.deps.database.tables.settings.key, "oidc.issuer"));
    const start = await t.request("/auth/oidc/start");
    expect(start.status).toBe(400);
    expect(await start.text()).toContain("Single sign-on is not set up");
    expect((await t.request("/auth/oidc/callback?code=x&state=y")).status).toBe(400);

    await configure({});
    // The refused start above counted too.
    for (let i = 1; i < LIMITS.login.limit; i++) expect((await t.request("/auth/oidc/start")).status).toBe(302);
    expect((await t.request("/auth/oidc/start")).status).toBe(429);
  });

  test("the settings form saves; the client secret is encrypted at rest and never shown", async () => {
    const secret = "form-secret-value-9f8e7d6c5b4a";
    const admin = await signIn(t, owner);
    const saved = await admin.post("/admin/settings/oidc", {
      issuer: op.issuer,
      clientId: "medianest",
      clientSecret: secret,
      displayName: "Authentik",
      groupClaim: "groups",
      adminGroup: "medianest-admins",
    });
    expect(saved.status).toBe(303);

    const { db, tables } = t.deps.database;
    const [row] = await db.select().from(tables.settings).where(eq(tables.settings.key, "oidc.client_secret"));
    expect(row!.secret).toBe(true);
    expect(row!.value).not.toContain(secret);
    expect(t.deps.secretBox.decrypt(row!.value)).toBe(secret);

    const page = await admin.get("/admin/settings/accounts");
    const html = await page.text();
    expect(html).toContain("A secret is saved");
    expect(html).toContain(op.issuer);
    expect(html).not.toContain(secret);
    expect(await (await t.request("/login")).text()).toContain("Sign in with Authentik");

    // Saving again with the secret left empty keeps it.
    await admin.post("/admin/settings/oidc", {
      issuer: op.issuer,
      clientId: "medianest",
      clientSecret: "",
      displayName: "Authentik",
    });
    const [kept] = await db.select().from(tables.settings).where(eq(tables.settings.key, "oidc.client_secret"));
    expect(t.deps.secretBox.decrypt(kept!.value)).toBe(secret);
  });
});
