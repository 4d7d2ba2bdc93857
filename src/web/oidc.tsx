import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { IntegrationError } from "../integrations/http";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { clientIp, isSecureRequest } from "../server/request";
import { SignInRefused } from "../services/accounts";
import { audit } from "../services/audit";
import {
  checkResponseIssuer,
  finishOidcSignIn,
  getOidcSettings,
  providerName,
  startOidcSignIn,
} from "../services/oidc";
import { enforceRateLimit, LIMITS } from "../services/rate-limit";
import { renderPage } from "../server/htmx";
import { beginSession, safeNext } from "./session-cookie";

const OIDC_COOKIE = "mn_oidc";
const COOKIE_PATH = "/auth/oidc";
const PENDING_TTL_MS = 10 * 60_000;
const PURPOSE = "oidc-signin";

// What the start of a sign-in leaves in the browser, sealed with the secret box so it can be neither read nor forged.
const pendingSchema = z.object({
  purpose: z.literal(PURPOSE),
  state: z.string().min(16),
  codeVerifier: z.string().min(43),
  nonce: z.string().min(16),
  next: z.string(),
  redirectUri: z.string(),
  expiresAt: z.number(),
});
type Pending = z.infer<typeof pendingSchema>;

/** A single sign-on attempt that ended without signing in, with ways to try again. */
function OidcProblem(props: { title: string; message: string; next: string; retry: boolean }) {
  return (
    <section class="card narrow" aria-labelledby="oidc-problem-title">
      <h1 id="oidc-problem-title">{props.title}</h1>
      <div class="alert alert-error" role="alert">
        {props.message}
      </div>
      <p class="row">
        {props.retry ? (
          <a class="btn btn-primary" href={`/auth/oidc/start?next=${encodeURIComponent(props.next)}`}>
            Try again
          </a>
        ) : null}
        <a class="btn" href={`/login?next=${encodeURIComponent(props.next)}`}>
          Back to sign-in
        </a>
      </p>
    </section>
  );
}

function redirectUri(c: Context<AppEnv>): string {
  const origin = c.get("deps").config.publicUrl?.replace(/\/+$/, "") ?? new URL(c.req.url).origin;
  return `${origin}/auth/oidc/callback`;
}

function openPending(c: Context<AppEnv>, sealed: string | undefined): Pending | undefined {
  if (!sealed) return undefined;
  try {
    const parsed = pendingSchema.safeParse(JSON.parse(c.get("deps").secretBox.decrypt(sealed)));
    if (!parsed.success || parsed.data.expiresAt < Date.now()) return undefined;
    return parsed.data;
  } catch {
    return undefined;
  }
}

function integrationMessage(err: IntegrationError): string {
  return err.kind === "network" || err.kind === "timeout"
    ? `${err.message}. Try again in a moment.`
    : `${err.message}. If it keeps happening, the owner should check the single sign-on settings.`;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const PROVIDER_ERRORS: Record<string, string> = {
  access_denied: "You cancelled the sign-in, or {name} did not allow it.",
  login_required: "{name} wants you to sign in there first.",
  consent_required: "{name} needs your consent before MediaNest may use your account.",
  interaction_required: "{name} needs you to finish something there first.",
  invalid_scope:
    "{name} does not allow the account details MediaNest asks for; the owner should check the provider's client settings.",
  unauthorized_client:
    "{name} does not allow MediaNest to sign people in; the owner should check the provider's client settings.",
  invalid_request:
    "{name} did not accept MediaNest's sign-in request; the owner should check the redirect URL and client ID.",
  temporarily_unavailable: "{name} is temporarily unavailable. Try again in a moment.",
  server_error: "{name} ran into an error. Try again in a moment.",
};

/** Routes for OpenID Connect sign-in: start (redirect to the provider) and callback. */
export function oidcRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/auth/oidc/start", allow("public"), async (c) => {
    const deps = c.get("deps");
    const next = safeNext(c.req.query("next"));
    if (c.get("user")) return c.redirect(next, 303);
    await enforceRateLimit(deps, LIMITS.login, [`oidc:ip:${clientIp(c)}`]);
    const problem = (message: string, status: 400 | 403 | 502, retry: boolean) =>
      renderPage(
        c,
        "Single sign-on",
        <OidcProblem title="Single sign-on did not start" message={message} next={next} retry={retry} />,
        { status },
      );
    try {
      const uri = redirectUri(c);
      const start = await startOidcSignIn(deps, uri);
      const pending: Pending = {
        purpose: PURPOSE,
        state: start.state,
        codeVerifier: start.codeVerifier,
        nonce: start.nonce,
        next,
        redirectUri: uri,
        expiresAt: Date.now() + PENDING_TTL_MS,
      };
      setCookie(c, OIDC_COOKIE, deps.secretBox.encrypt(JSON.stringify(pending)), {
        httpOnly: true,
        sameSite: "Lax",
        secure: isSecureRequest(c),
        path: COOKIE_PATH,
        maxAge: PENDING_TTL_MS / 1000,
      });
      return c.redirect(start.url, 302);
    } catch (err) {
      if (err instanceof SignInRefused) return problem(err.message, 400, false);
      if (err instanceof IntegrationError) return problem(integrationMessage(err), 502, true);
      throw err;
    }
  });

  app.get("/auth/oidc/callback", allow("public"), async (c) => {
    const deps = c.get("deps");
    const ip = clientIp(c);
    // Every refused callback writes an audit row: bound how fast anyone can make them.
    await enforceRateLimit(deps, LIMITS.login, [`oidc-callback:ip:${ip}`]);
    const query = c.req.query();
    // Gone from the browser before anything else happens, so this state can be used once only.
    const pending = openPending(c, getCookie(c, OIDC_COOKIE));
    deleteCookie(c, OIDC_COOKIE, { path: COOKIE_PATH, secure: isSecureRequest(c), httpOnly: true, sameSite: "Lax" });
    const next = pending?.next ?? "/";
    const settings = await getOidcSettings(deps);
    const name = settings ? providerName(settings) : "The sign-in provider";
    const problem = async (status: 400 | 403 | 502, message: string, reason: string, retry = true) => {
      await audit(deps, { ip }, "signin.failure", undefined, { method: "oidc", reason });
      return renderPage(
        c,
        "Single sign-on",
        <OidcProblem
          title="Single sign-on did not work"
          message={message}
          next={next}
          retry={retry && Boolean(settings)}
        />,
        { status },
      );
    };

    if (!pending) {
      return problem(
        400,
        "This sign-in has expired, was already used, or was started in another browser. Start again.",
        "missing or unreadable state cookie",
      );
    }
    if (!query.state || !sameString(query.state, pending.state)) {
      return problem(
        400,
        "This sign-in answer does not belong to the sign-in this browser started. Start again.",
        "state mismatch",
      );
    }
    // The cookie is gone from an honest browser; a copy replayed with the same state is stopped here, on every replica.
    const stateKey = `oidc:state-used:${createHash("sha256").update(pending.state).digest("base64url")}`;
    if (!(await deps.coordination.locks.tryAcquire(stateKey, PENDING_TTL_MS))) {
      return problem(400, "This sign-in answer was already used. Start again.", "state replayed");
    }
    if (query.error) {
      const known = PROVIDER_ERRORS[query.error];
      const message = known
        ? known.replaceAll("{name}", name)
        : `${name} could not sign you in (${query.error.slice(0, 60)}).`;
      const status =
        query.error === "access_denied"
          ? 403
          : query.error === "server_error" || query.error === "temporarily_unavailable"
            ? 502
            : 400;
      return problem(status, message, `provider error: ${query.error.slice(0, 60)}`);
    }
    if (!query.code) return problem(400, `${name} sent no authorization code. Start again.`, "no code");

    try {
      await checkResponseIssuer(deps, query.iss);
    } catch (err) {
      if (!(err instanceof SignInRefused) && !(err instanceof IntegrationError)) throw err;
      if (err instanceof SignInRefused) return problem(400, err.message, "response issuer mismatch");
      return problem(502, integrationMessage(err), `discovery: ${err.message.slice(0, 200)}`);
    }
    try {
      const user = await finishOidcSignIn(
        deps,
        {
          code: query.code,
          codeVerifier: pending.codeVerifier,
          nonce: pending.nonce,
          redirectUri: pending.redirectUri,
        },
        { ip },
      );
      await beginSession(c, user);
      return c.redirect(safeNext(pending.next), 303);
    } catch (err) {
      const view = (status: 403 | 502, message: string) =>
        renderPage(
          c,
          "Single sign-on",
          <OidcProblem title="Single sign-on did not work" message={message} next={next} retry={Boolean(settings)} />,
          { status },
        );
      if (err instanceof SignInRefused) return view(403, err.message);
      if (err instanceof IntegrationError) return view(502, integrationMessage(err));
      throw err;
    }
  });

  return app;
}
