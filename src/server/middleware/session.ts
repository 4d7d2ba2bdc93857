import type { Context, MiddlewareHandler, Next } from "hono";
import { getCookie } from "hono/cookie";
import { resolveSession, SESSION_COOKIE } from "../../services/sessions";
import { resolveApiToken } from "../../services/api-tokens";
import type { AppEnv } from "../../app/deps";

/** Load the signed-in user from the session cookie, or from a personal API token under /api. */
export function sessionMiddleware(): MiddlewareHandler<AppEnv> {
  const withCredentials = async (c: Context<AppEnv>, next: Next, auth: string | undefined, raw: string | undefined) => {
    const deps = c.get("deps");
    if (auth?.startsWith("Bearer ") && c.req.path.startsWith("/api/")) {
      // A bearer token is the request's only credential here: the cookie is not read, so a token that no longer
      // resolves (revoked, its user disabled) is anonymous, never the browser's session. Marked "token" either way:
      // nothing ambient rides along, so the CSRF layer lets it through and the route answers 401.
      const user = await resolveApiToken(deps, auth.slice(7).trim());
      if (user) c.set("user", user);
      c.set("authVia", "token");
      return next();
    }
    if (raw) {
      const found = await resolveSession(deps, raw);
      if (found) {
        c.set("user", found.user);
        c.set("session", found.session);
        c.set("authVia", "cookie");
        c.set("csrfToken", found.session.csrfToken);
      }
    }
    // Returned, not awaited alone: a later layer's own answer (the setup gate's redirect) must reach the pipeline.
    return next();
  };
  // Not async itself: a request without credentials (most anonymous requests) goes straight on.
  return (c, next) => {
    const auth = c.req.header("authorization");
    const raw = getCookie(c, SESSION_COOKIE);
    return auth || raw ? withCredentials(c, next, auth, raw) : next();
  };
}
