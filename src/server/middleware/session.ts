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
      const user = await resolveApiToken(deps, auth.slice(7).trim());
      if (user) {
        c.set("user", user);
        c.set("authVia", "token");
      }
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
    await next();
  };
  // Not async itself: a request without credentials (most anonymous requests) goes straight on.
  return (c, next) => {
    const auth = c.req.header("authorization");
    const raw = getCookie(c, SESSION_COOKIE);
    return auth || raw ? withCredentials(c, next, auth, raw) : next();
  };
}

/** The client's IP: the socket address, or the address a trusted proxy appended to X-Forwarded-For. */
export function clientIp(c: Context<AppEnv>): string {
  if (c.get("deps").config.trustProxy) {
    // The last hop is the address our proxy saw; earlier entries are whatever the client chose to send.
    const fwd = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (fwd) return fwd;
  }
  try {
    const info = (
      c.env as { server?: { requestIP(r: Request): { address: string } | null } } | undefined
    )?.server?.requestIP(c.req.raw);
    if (info?.address) return info.address;
  } catch {
    // app.request() in tests has no socket
  }
  return "unknown";
}

/** True when cookies must be Secure: an https public URL, or https reported by a trusted proxy. */
export function isSecureRequest(c: Context<AppEnv>): boolean {
  const { config } = c.get("deps");
  if (config.publicUrl?.startsWith("https:")) return true;
  if (config.trustProxy && c.req.header("x-forwarded-proto") === "https") return true;
  return new URL(c.req.url).protocol === "https:";
}
