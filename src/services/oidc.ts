import {
  ArcticFetchError,
  CodeChallengeMethod,
  decodeIdToken,
  generateCodeVerifier,
  generateState,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
  type OAuth2Tokens,
} from "arctic";
import { z } from "zod";
import type { Cache } from "../coordination/types";
import {
  IntegrationError,
  requestJson,
  type IntegrationErrorKind,
  type IntegrationObserver,
} from "../integrations/http";
import type { AppDeps } from "../app/deps";
import { listSettings, upsertSetting } from "../store/settings";
import { findUserByOidc, insertUser, listUsers, updateUser, type User } from "../store/users";
import { freeUsername, SignInRefused } from "./accounts";
import { alertAdminsOfNewUser } from "./admin-alerts";
import { audit, type Actor } from "./audit";
import { getAuthSettings } from "./auth-settings";
import { integrationObserver } from "./integration-observer";

/** The OpenID Connect provider the admin configured. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Button label: "Sign in with <displayName>". */
  displayName: string;
  /** Claim holding the user's groups (e.g. "groups"); empty when not used. */
  groupClaim: string;
  /** Members of this group become admins. */
  adminGroup: string;
}

/** Read the OIDC settings; undefined when OIDC is not configured. */
export async function getOidcSettings(
  deps: Pick<AppDeps, "database" | "secretBox">,
): Promise<OidcSettings | undefined> {
  const s = await listSettings(deps.database, deps.secretBox, "oidc.");
  const issuer = s.get("oidc.issuer");
  const clientId = s.get("oidc.client_id");
  if (!issuer || !clientId) return undefined;
  return {
    issuer,
    clientId,
    clientSecret: s.get("oidc.client_secret") ?? "",
    displayName: s.get("oidc.display_name") || "single sign-on",
    groupClaim: s.get("oidc.group_claim") ?? "",
    adminGroup: s.get("oidc.admin_group") ?? "",
  };
}

/** Save the OIDC settings; the client secret is stored encrypted and kept when left empty. */
export async function saveOidcSettings(
  deps: Pick<AppDeps, "database" | "secretBox">,
  settings: OidcSettings,
): Promise<void> {
  const { database, secretBox } = deps;
  await upsertSetting(database, secretBox, "oidc.issuer", settings.issuer);
  await upsertSetting(database, secretBox, "oidc.client_id", settings.clientId);
  if (settings.clientSecret)
    await upsertSetting(database, secretBox, "oidc.client_secret", settings.clientSecret, true);
  await upsertSetting(database, secretBox, "oidc.display_name", settings.displayName);
  await upsertSetting(database, secretBox, "oidc.group_claim", settings.groupClaim);
  await upsertSetting(database, secretBox, "oidc.admin_group", settings.adminGroup);
}

// ---------------------------------------------------------------------------------------------------------------
// Discovery

/** The parts of a provider's discovery document MediaNest uses. */
export interface OidcDiscovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint?: string;
  jwksUri?: string;
  /** Absent when the provider does not say. */
  scopesSupported?: string[];
}

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const discoverySchema = z.looseObject({
  issuer: httpUrl,
  authorization_endpoint: httpUrl,
  token_endpoint: httpUrl,
  userinfo_endpoint: httpUrl.optional(),
  jwks_uri: httpUrl.optional(),
  scopes_supported: z.array(z.string()).optional(),
});

const SERVICE = "oidc";
const DISCOVERY_TTL_MS = 10 * 60_000;
const TOKEN_TIMEOUT_MS = 10_000;
// Provider and MediaNest clocks may differ a little; more than this and the ID token is treated as expired.
const CLOCK_SKEW_S = 120;

/** Options of discover(): a shared cache, a name for messages, metrics. */
export interface DiscoverOptions {
  cache?: Cache;
  displayName?: string;
  observer?: IntegrationObserver;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** Read and check a provider's discovery document; the issuer it names must be the configured one. */
export async function discover(
  issuer: string,
  fetchFn: typeof fetch,
  opts: DiscoverOptions = {},
): Promise<OidcDiscovery> {
  const load = async (): Promise<OidcDiscovery> => {
    const doc = await requestJson({
      service: SERVICE,
      displayName: opts.displayName ?? "The sign-in provider",
      fetch: fetchFn,
      url: `${trimSlash(issuer)}/.well-known/openid-configuration`,
      schema: discoverySchema,
      ...(opts.observer ? { observer: opts.observer } : {}),
    });
    if (trimSlash(doc.issuer) !== trimSlash(issuer)) {
      opts.observer?.onIntegrationError?.(SERVICE, "bad_response");
      throw new IntegrationError({
        service: SERVICE,
        kind: "bad_response",
        message: `${opts.displayName ?? "The sign-in provider"} names its issuer “${doc.issuer}”, not the configured “${issuer}”; copy the issuer URL from the provider into the sign-in settings`,
      });
    }
    return {
      issuer: doc.issuer,
      authorizationEndpoint: doc.authorization_endpoint,
      tokenEndpoint: doc.token_endpoint,
      ...(doc.userinfo_endpoint ? { userinfoEndpoint: doc.userinfo_endpoint } : {}),
      ...(doc.jwks_uri ? { jwksUri: doc.jwks_uri } : {}),
      ...(doc.scopes_supported ? { scopesSupported: doc.scopes_supported } : {}),
    };
  };
  return opts.cache ? opts.cache.wrap(`oidc:discovery:${issuer}`, DISCOVERY_TTL_MS, load) : load();
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in

type OidcDeps = Pick<AppDeps, "database" | "secretBox" | "coordination" | "fetch" | "metrics" | "log">;

/** What the browser must carry from the start of a sign-in to its callback. */
export interface OidcStart {
  url: string;
  state: string;
  codeVerifier: string;
  nonce: string;
}

/** What the callback brings back, with what the start stored. */
export interface OidcCallback {
  code: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
}

/** Name the provider in messages: the admin's button label, or a generic phrase. */
export function providerName(settings: Pick<OidcSettings, "displayName">): string {
  return settings.displayName && settings.displayName !== "single sign-on"
    ? settings.displayName
    : "The sign-in provider";
}

async function requireSettings(deps: OidcDeps): Promise<OidcSettings> {
  const settings = await getOidcSettings(deps);
  if (!settings)
    throw new SignInRefused("Single sign-on is not set up on this MediaNest. Sign in another way, or ask the owner.");
  return settings;
}

function discoveryFor(deps: OidcDeps, settings: OidcSettings): Promise<OidcDiscovery> {
  return discover(settings.issuer, deps.fetch, {
    cache: deps.coordination.cache,
    displayName: providerName(settings),
    observer: integrationObserver(deps),
  });
}

function wantsGroups(settings: OidcSettings): boolean {
  return Boolean(settings.groupClaim && settings.adminGroup);
}

/** Build the provider's authorization URL with PKCE (S256), a fresh state and a nonce. */
export async function startOidcSignIn(deps: OidcDeps, redirectUri: string): Promise<OidcStart> {
  const settings = await requireSettings(deps);
  const discovery = await discoveryFor(deps, settings);
  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const nonce = generateState();
  // Ask only for scopes the provider lists (when it lists any): Keycloak and Authelia refuse unknown scopes.
  const supported = discovery.scopesSupported;
  const offered = (scope: string) => !supported || supported.includes(scope);
  const scopes = ["openid", ...["profile", "email"].filter(offered)];
  if (wantsGroups(settings) && supported?.includes("groups")) scopes.push("groups");
  const client = new OAuth2Client(settings.clientId, settings.clientSecret || null, redirectUri);
  const url = client.createAuthorizationURLWithPKCE(
    discovery.authorizationEndpoint,
    state,
    CodeChallengeMethod.S256,
    codeVerifier,
    scopes,
  );
  url.searchParams.set("nonce", nonce);
  return { url: url.toString(), state, codeVerifier, nonce };
}

/** Check the issuer a provider named in its authorization response (RFC 9207), when it named one. */
export async function checkResponseIssuer(deps: OidcDeps, iss: string | undefined): Promise<void> {
  if (iss === undefined) return;
  const settings = await requireSettings(deps);
  const discovery = await discoveryFor(deps, settings);
  if (iss !== discovery.issuer) {
    throw new SignInRefused(
      `The sign-in answer came from “${iss}”, not from ${providerName(settings)} (${discovery.issuer}). Start again.`,
    );
  }
}

function tokenError(name: string, err: unknown): IntegrationError {
  const make = (kind: IntegrationErrorKind, message: string, extra: { status?: number; body?: string } = {}) =>
    new IntegrationError({ service: SERVICE, kind, message, cause: err, ...extra });
  if (err instanceof IntegrationError) return err;
  if (err instanceof OAuth2RequestError) {
    return make(
      "refused",
      `${name} refused the sign-in (${err.code})`,
      err.description ? { body: err.description } : {},
    );
  }
  if (err instanceof ArcticFetchError) {
    const cause = err.cause instanceof Error ? err.cause.message : "network error";
    return make("network", `${name} could not be reached (${cause})`);
  }
  if (err instanceof UnexpectedErrorResponseBodyError) {
    return make("bad_response", `${name} answered the sign-in with an unreadable error (status ${err.status})`, {
      status: err.status,
    });
  }
  if (err instanceof UnexpectedResponseError) {
    return make("bad_response", `${name} answered the sign-in with status ${err.status}`, { status: err.status });
  }
  return make("bad_response", `${name} answered the sign-in with something unexpected (${(err as Error).message})`);
}

/** Exchange the code at the token endpoint; arctic's fetch has no timeout of its own, so one is raced here. */
async function exchangeCode(
  deps: OidcDeps,
  settings: OidcSettings,
  discovery: OidcDiscovery,
  input: OidcCallback,
): Promise<OAuth2Tokens> {
  const name = providerName(settings);
  const observer = integrationObserver(deps);
  const client = new OAuth2Client(settings.clientId, settings.clientSecret || null, input.redirectUri);
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new IntegrationError({
            service: SERVICE,
            kind: "timeout",
            message: `${name} did not answer (timeout after ${TOKEN_TIMEOUT_MS / 1000} s)`,
          }),
        ),
      TOKEN_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      client.validateAuthorizationCode(discovery.tokenEndpoint, input.code, input.codeVerifier),
      timeout,
    ]);
  } catch (err) {
    const error = tokenError(name, err);
    observer.onIntegrationError?.(SERVICE, error.kind);
    throw error;
  } finally {
    clearTimeout(timer);
    observer.onDuration?.(SERVICE, (performance.now() - started) / 1000);
  }
}

type Claims = Record<string, unknown>;

/** Why an ID token was not accepted; the message names the failed check. */
class IdTokenRejected extends SignInRefused {
  constructor(
    readonly reason: string,
    name: string,
  ) {
    super(
      `${name} sent an ID token MediaNest cannot accept (${reason}). Try again; if it keeps happening, the owner should check the single sign-on settings.`,
    );
  }
}

function checkClaims(claims: Claims, expect: { issuer: string; clientId: string; nonce: string; name: string }): void {
  const reject = (reason: string) => {
    throw new IdTokenRejected(reason, expect.name);
  };
  if (claims.iss !== expect.issuer) reject(`issuer “${String(claims.iss)}” is not “${expect.issuer}”`);
  const aud = claims.aud;
  const audiences =
    typeof aud === "string"
      ? [aud]
      : Array.isArray(aud) && aud.every((a) => typeof a === "string")
        ? (aud as string[])
        : undefined;
  if (!audiences || !audiences.includes(expect.clientId))
    reject(`issued for another application: audience ${JSON.stringify(aud)}, expected “${expect.clientId}”`);
  if (audiences!.length > 1 && claims.azp !== expect.clientId)
    reject(`several audiences and the authorized party is not “${expect.clientId}”`);
  if (claims.azp !== undefined && claims.azp !== expect.clientId)
    reject(`authorized party “${String(claims.azp)}” is not “${expect.clientId}”`);
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number") reject("no expiry");
  if ((claims.exp as number) + CLOCK_SKEW_S < now) reject("expired");
  if (typeof claims.iat !== "number") reject("no issue time");
  if (typeof claims.nbf === "number" && claims.nbf - CLOCK_SKEW_S > now) reject("not valid yet");
  if (typeof claims.nonce !== "string" || claims.nonce !== expect.nonce) reject("nonce does not match this sign-in");
  if (typeof claims.sub !== "string" || claims.sub === "") reject("no subject");
}

// ---------------------------------------------------------------------------------------------------------------
// ID token signature. The token comes straight from the token endpoint, so OIDC Core 3.1.3.7 lets a client rely on
// TLS instead; it is verified anyway when the algorithm is one Web Crypto knows, and refused when that check fails.

const jwkSchema = z.looseObject({
  kty: z.string(),
  kid: z.string().optional(),
  use: z.string().optional(),
  alg: z.string().optional(),
});
const jwksSchema = z.looseObject({ keys: z.array(jwkSchema) });
type Jwk = z.infer<typeof jwkSchema>;

interface AlgSpec {
  kty: string;
  importParams: RsaHashedImportParams | EcKeyImportParams | HmacImportParams | Algorithm;
  verifyParams: Algorithm | RsaPssParams | EcdsaParams;
}

function algSpec(alg: string): AlgSpec | undefined {
  const m = /^(RS|PS|ES|HS)(256|384|512)$/.exec(alg);
  if (m) {
    const hash = `SHA-${m[2]}`;
    const bits = Number(m[2]);
    switch (m[1]) {
      case "RS":
        return {
          kty: "RSA",
          importParams: { name: "RSASSA-PKCS1-v1_5", hash },
          verifyParams: { name: "RSASSA-PKCS1-v1_5" },
        };
      case "PS":
        return {
          kty: "RSA",
          importParams: { name: "RSA-PSS", hash },
          verifyParams: { name: "RSA-PSS", saltLength: bits / 8 } as RsaPssParams,
        };
      case "ES":
        return {
          kty: "EC",
          importParams: { name: "ECDSA", namedCurve: bits === 512 ? "P-521" : `P-${bits}` },
          verifyParams: { name: "ECDSA", hash } as EcdsaParams,
        };
      case "HS":
        return { kty: "oct", importParams: { name: "HMAC", hash }, verifyParams: { name: "HMAC" } };
    }
  }
  if (alg === "EdDSA" || alg === "Ed25519")
    return { kty: "OKP", importParams: { name: "Ed25519" }, verifyParams: { name: "Ed25519" } };
  return undefined;
}

function base64url(part: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(part, "base64url"));
}

async function loadJwks(deps: OidcDeps, settings: OidcSettings, jwksUri: string, fresh: boolean): Promise<Jwk[]> {
  const key = `oidc:jwks:${jwksUri}`;
  const load = async () =>
    (
      await requestJson({
        service: SERVICE,
        displayName: providerName(settings),
        fetch: deps.fetch,
        url: jwksUri,
        schema: jwksSchema,
        observer: integrationObserver(deps),
      })
    ).keys;
  if (fresh) {
    const keys = await load();
    await deps.coordination.cache.set(key, keys, DISCOVERY_TTL_MS);
    return keys;
  }
  return deps.coordination.cache.wrap(key, DISCOVERY_TTL_MS, load);
}

/** Verify the ID token's signature; "skipped" when the algorithm or keys are not available to check with. */
async function verifySignature(
  deps: OidcDeps,
  settings: OidcSettings,
  discovery: OidcDiscovery,
  idToken: string,
): Promise<"verified" | "skipped"> {
  const name = providerName(settings);
  const [h, p, s] = idToken.split(".");
  if (!h || !p || s === undefined) throw new IdTokenRejected("not a signed JWT", name);
  let header: { alg?: unknown; kid?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as typeof header;
  } catch {
    throw new IdTokenRejected("unreadable header", name);
  }
  const alg = typeof header.alg === "string" ? header.alg : "";
  if (alg === "none" || alg === "") throw new IdTokenRejected("unsigned", name);
  const spec = algSpec(alg);
  if (!spec) return "skipped";
  const data = new TextEncoder().encode(`${h}.${p}`);
  const signature = base64url(s);
  const verifyWith = async (key: CryptoKey) => crypto.subtle.verify(spec.verifyParams, key, signature, data);

  if (spec.kty === "oct") {
    if (!settings.clientSecret) return "skipped";
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(settings.clientSecret),
      spec.importParams,
      false,
      ["verify"],
    );
    if (await verifyWith(key)) return "verified";
    throw new IdTokenRejected("signature does not match", name);
  }
  if (!discovery.jwksUri) return "skipped";
  const kid = typeof header.kid === "string" ? header.kid : undefined;
  const candidates = (keys: Jwk[]) =>
    keys.filter(
      (k) => k.kty === spec.kty && (!k.use || k.use === "sig") && (!kid || k.kid === kid) && (!k.alg || k.alg === alg),
    );
  let keys = candidates(await loadJwks(deps, settings, discovery.jwksUri, false));
  // A kid we have not seen means the provider rotated its keys since we cached them.
  if (keys.length === 0) keys = candidates(await loadJwks(deps, settings, discovery.jwksUri, true));
  if (keys.length === 0) throw new IdTokenRejected(`no published key for ${alg}${kid ? ` (kid ${kid})` : ""}`, name);
  for (const jwk of keys) {
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey("jwk", jwk as JsonWebKey, spec.importParams, false, ["verify"]);
    } catch {
      continue;
    }
    if (await verifyWith(key)) return "verified";
  }
  throw new IdTokenRejected("signature does not match the provider's keys", name);
}

// ---------------------------------------------------------------------------------------------------------------
// Claims to a MediaNest user

const userinfoSchema = z.looseObject({ sub: z.string() });

function claimAt(claims: Claims, path: string): unknown {
  if (path in claims) return claims[path];
  // Nested claims such as Keycloak's realm_access.roles.
  let cur: unknown = claims;
  for (const part of path.split(".")) {
    if (typeof cur !== "object" || cur === null || !(part in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function stringClaim(claims: Claims, name: string): string | undefined {
  const v = claims[name];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/** Groups named by the claim: an array of strings, or one string with comma- or space-separated names. */
function groupsOf(claims: Claims, claim: string): string[] | undefined {
  const v = claimAt(claims, claim);
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === "string");
  if (typeof v === "string") return v.split(/[,\s]+/).filter(Boolean);
  return undefined;
}

function inAdminGroup(groups: string[] | undefined, adminGroup: string): boolean {
  // Keycloak sends full group paths ("/admins") unless told otherwise.
  return (groups ?? []).some((g) => g === adminGroup || g.replace(/^\//, "") === adminGroup.replace(/^\//, ""));
}

/** Merge UserInfo claims in when the ID token lacks what MediaNest needs (Authelia keeps ID tokens minimal). */
async function withUserinfo(
  deps: OidcDeps,
  settings: OidcSettings,
  discovery: OidcDiscovery,
  tokens: OAuth2Tokens,
  claims: Claims,
): Promise<Claims> {
  const needsProfile = !["preferred_username", "email", "name"].some((c) => stringClaim(claims, c));
  const needsGroups = wantsGroups(settings) && claimAt(claims, settings.groupClaim) === undefined;
  if (!(needsProfile || needsGroups) || !discovery.userinfoEndpoint) return claims;
  let accessToken: string;
  try {
    accessToken = tokens.accessToken();
  } catch {
    return claims;
  }
  const info = await requestJson({
    service: SERVICE,
    displayName: providerName(settings),
    fetch: deps.fetch,
    url: discovery.userinfoEndpoint,
    headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
    schema: userinfoSchema,
    observer: integrationObserver(deps),
  });
  // OIDC Core 5.3.4: UserInfo for another subject must not be used.
  if (info.sub !== claims.sub) throw new IdTokenRejected("user info names another subject", providerName(settings));
  const merged: Claims = { ...info };
  // The ID token's own claims were checked; UserInfo may only add to them.
  for (const [k, v] of Object.entries(claims)) merged[k] = v;
  return merged;
}

function wantedUsername(claims: Claims, sub: string): string {
  const email = stringClaim(claims, "email");
  return (
    stringClaim(claims, "preferred_username") ??
    (email ? email.split("@")[0] : undefined) ??
    stringClaim(claims, "name") ??
    `sso-${sub.slice(0, 12)}`
  );
}

async function otherActiveAdmins(deps: OidcDeps): Promise<boolean> {
  return (await listUsers(deps.database, { role: "admin", status: "active", limit: 2 })).total > 1;
}

/**
 * Finish a sign-in at the callback: exchange the code (PKCE), check the ID token (issuer, audience, expiry, nonce,
 * signature when possible), then find the user by issuer and subject or create one when automatic accounts are on.
 * With a group claim and an admin group set, membership decides the role (the last active admin is never demoted).
 */
export async function finishOidcSignIn(deps: OidcDeps, input: OidcCallback, actor: Actor): Promise<User> {
  const settings = await requireSettings(deps);
  const name = providerName(settings);
  const failed = (reason: string, extra: Record<string, unknown> = {}, user?: User) =>
    audit(deps, user ? { ...actor, user } : actor, "signin.failure", user ? { type: "user", id: user.id } : undefined, {
      method: "oidc",
      reason,
      ...extra,
    });

  let claims: Claims;
  let discovery: OidcDiscovery;
  let tokens: OAuth2Tokens;
  try {
    discovery = await discoveryFor(deps, settings);
    tokens = await exchangeCode(deps, settings, discovery, input);
    let idToken: string;
    try {
      idToken = tokens.idToken();
    } catch {
      throw new IntegrationError({
        service: SERVICE,
        kind: "bad_response",
        message: `${name} answered without an ID token (is the openid scope allowed for this client?)`,
      });
    }
    try {
      claims = decodeIdToken(idToken) as Claims;
    } catch {
      throw new IdTokenRejected("unreadable", name);
    }
    checkClaims(claims, { issuer: discovery.issuer, clientId: settings.clientId, nonce: input.nonce, name });
    const signature = await verifySignature(deps, settings, discovery, idToken);
    if (signature === "skipped")
      deps.log.debug("oidc: ID token signature not verified; relying on the TLS back channel", {
        issuer: discovery.issuer,
      });
    claims = await withUserinfo(deps, settings, discovery, tokens, claims);
  } catch (err) {
    if (err instanceof IdTokenRejected) await failed(`id token: ${err.reason}`);
    else if (err instanceof IntegrationError) await failed(err.message);
    throw err;
  }

  const issuer = discovery.issuer;
  const sub = claims.sub as string;
  const groups = wantsGroups(settings) ? groupsOf(claims, settings.groupClaim) : undefined;
  const admin = wantsGroups(settings) ? inAdminGroup(groups, settings.adminGroup) : undefined;
  const profile = {
    ...(stringClaim(claims, "name") ? { displayName: stringClaim(claims, "name")! } : {}),
    ...(stringClaim(claims, "email") ? { email: stringClaim(claims, "email")! } : {}),
    ...(stringClaim(claims, "picture")?.startsWith("https://") ? { avatarUrl: stringClaim(claims, "picture")! } : {}),
    lastLoginAt: new Date(),
  };

  let user = await findUserByOidc(deps.database, issuer, sub);
  if (user) {
    if (user.status !== "active") {
      await failed("account disabled", {}, user);
      throw new SignInRefused("Your MediaNest account is disabled. Ask the owner to enable it.");
    }
    let role = user.role;
    if (admin === true) role = "admin";
    if (admin === false && user.role === "admin") {
      if (await otherActiveAdmins(deps)) role = "user";
      else
        deps.log.warn("oidc: kept the last active admin although the provider no longer lists the admin group", {
          username: user.username,
        });
    }
    const before = user.role;
    user = (await updateUser(deps.database, user.id, { ...profile, role }))!;
    if (before !== role) {
      await audit(
        deps,
        { ...actor, user },
        "user.role_change",
        { type: "user", id: user.id },
        { username: user.username, from: before, to: role, via: "oidc group" },
      );
    }
  } else {
    const authSettings = await getAuthSettings(deps);
    const wanted = wantedUsername(claims, sub);
    if (!authSettings.autoCreate) {
      await failed("no account", { username: wanted.slice(0, 100) });
      throw new SignInRefused(
        `${name} knows you as “${wanted}”, but this MediaNest only lets in people the owner has added. Ask the owner to add you.`,
      );
    }
    const now = new Date();
    const row = {
      id: crypto.randomUUID(),
      username: await freeUsername(deps, wanted),
      displayName: stringClaim(claims, "name") ?? stringClaim(claims, "preferred_username") ?? wanted,
      role: admin ? ("admin" as const) : ("user" as const),
      status: "active" as const,
      oidcIssuer: issuer,
      oidcSubject: sub,
      permissions: [...authSettings.defaultPermissions],
      ...authSettings.defaultQuotas,
      createdAt: now,
      updatedAt: now,
      ...profile,
    };
    try {
      user = await insertUser(deps.database, row);
    } catch (err) {
      // The same person finishing two sign-ins at once: the unique (issuer, subject) index lets one insert win.
      const winner = await findUserByOidc(deps.database, issuer, sub);
      if (!winner) throw err;
      user = winner;
    }
    await audit(
      deps,
      { ...actor, user },
      "user.create",
      { type: "user", id: user.id },
      { method: "oidc", username: user.username, role: user.role },
    );
    await alertAdminsOfNewUser(deps, user, "oidc");
  }
  await audit(deps, { ...actor, user }, "signin.success", { type: "user", id: user.id }, { method: "oidc", issuer });
  return user;
}
