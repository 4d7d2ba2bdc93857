import type { Context, MiddlewareHandler, Next } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../../app/deps";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

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
 * Guard every request that changes state: the Origin (or Referer) must be this site; a signed-in browser must send
 * its session's CSRF token (htmx sends it as X-CSRF-Token, plain forms as the `_csrf` field, read from the body the
 * body layer parsed). Personal API tokens are not ambient credentials, so token-authenticated calls skip the token
 * check. GET, HEAD and OPTIONS pass straight through.
 */
export function csrfProtection(): MiddlewareHandler<AppEnv> {
  const check = async (c: Context<AppEnv>, next: Next): Promise<void> => {
    const { config } = c.get("deps");
    const self = new URL(c.req.url).origin;
    const allowed = new Set([self]);
    if (config.publicUrl) allowed.add(new URL(config.publicUrl).origin);
    const origin = c.req.header("origin") ?? originOf(c.req.header("referer"));
    if (c.get("authVia") === "token") return next();
    if (!origin || !allowed.has(origin)) {
      throw new HTTPException(403, {
        message: "This form came from another site (origin check failed). Reload the page and try again.",
      });
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
    await next();
  };
  return (c, next) => (SAFE.has(c.req.method) ? next() : check(c, next));
}
