import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app/deps";
import { redirect } from "./htmx";

/** Who may call a route: anyone, any signed-in user, or admins only. */
export type Access = "public" | "user" | "admin";

export type AccessMiddleware = MiddlewareHandler<AppEnv> & { access: Access };

/** Declare a route's access rule; every route must carry one (test/routes-access.test.ts walks them all). */
export function allow(access: Access): AccessMiddleware {
  // Not async: every check here is synchronous, and this runs on every request.
  const mw: MiddlewareHandler<AppEnv> = (c, next) => {
    if (access === "public") return next();
    const user = c.get("user");
    if (!user) {
      if (c.req.path.startsWith("/api/"))
        throw new HTTPException(401, { message: "Sign in or send a valid API token." });
      const next_ = c.req.method === "GET" ? c.req.path + (new URL(c.req.url).search || "") : "/";
      const to = `/login?next=${encodeURIComponent(next_)}`;
      return Promise.resolve(redirect(c, to, 401));
    }
    if (access === "admin" && user.role !== "admin") {
      throw new HTTPException(403, { message: "This page is for administrators." });
    }
    return next();
  };
  return Object.assign(mw, { access });
}
