import type { Context, MiddlewareHandler, Next } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../../app/deps";
import type { Config } from "../../config/options";
import { forwardedOrigin } from "../request";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
// Webhooks come from other servers (no Origin, no session) and prove themselves with their own secret.
const WEBHOOKS = "/api/v1/webhooks/";

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// A Referer is whatever the client sends; one that is not a URL is no origin at all (refused below), not a crash.
function originOf(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * The origins a form may come from. Without a public URL, the request's own (whatever Host the client sent, as
 * before). With one, only its origin, and with a trusted proxy also the host the proxy says it served: a Host
 * header alone is the client's word, and a page on a rebinding domain sends its own name there.
 */
function allowedOrigins(config: Pick<Config, "publicUrl">): (c: Context<AppEnv>) => string[] {
  if (!config.publicUrl) return (c) => [new URL(c.req.url).origin];
  const own = new URL(config.publicUrl).origin;
  return (c) => {
    const forwarded = forwardedOrigin(c);
    return forwarded ? [own, forwarded] : [own];
  };
}

/**
 * Guard every request that changes state: the Origin (or Referer) must be this site's (see allowedOrigins); a
 * signed-in browser must send its session's CSRF token (htmx sends it as X-CSRF-Token, plain forms as the `_csrf`
 * field, read from the body the body layer parsed). Personal API tokens are not ambient credentials, so calls
 * that carry a bearer token under /api (for which the session layer never reads the cookie) skip both checks, and so do webhooks (under /api/v1/webhooks/, each checking its own
 * secret). GET, HEAD and OPTIONS pass straight through.
 */
export function csrfProtection(config: Pick<Config, "publicUrl">): MiddlewareHandler<AppEnv> {
  const allowed = allowedOrigins(config);
  const where = config.publicUrl
    ? `Open MediaNest at ${new URL(config.publicUrl).origin} and try again.`
    : "Reload the page and try again.";
  const check = async (c: Context<AppEnv>, next: Next): Promise<Response | void> => {
    if (c.get("authVia") === "token") return next();
    const origin = c.req.header("origin") ?? originOf(c.req.header("referer"));
    if (!origin || !allowed(c).includes(origin)) {
      throw new HTTPException(403, { message: `This form came from another site (origin check failed). ${where}` });
    }
    const session = c.get("session");
    if (session) {
      let sent = c.req.header("x-csrf-token");
      if (!sent && (c.req.header("content-type") ?? "").match(/form-data|x-www-form-urlencoded/)) {
        const body = await c.req.parseBody();
        sent = typeof body._csrf === "string" ? body._csrf : undefined;
      }
      if (!sent || !same(sent, session.csrfToken)) {
        throw new HTTPException(403, {
          message: "Your form expired (CSRF token mismatch). Reload the page and try again.",
        });
      }
    }
    return next();
  };
  return (c, next) => (SAFE.has(c.req.method) || c.req.path.startsWith(WEBHOOKS) ? next() : check(c, next));
}
