import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../deps";

/** Log one JSON line per request and observe its duration by route pattern (never by raw path). */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    c.set("requestId", c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID());
    await next();
    const seconds = (performance.now() - start) / 1000;
    const deps = c.get("deps");
    const route = c.res.status === 404 && routePath(c) === "/*" ? "unmatched" : routePath(c);
    deps.metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
    if (c.req.path === "/healthz" || c.req.path === "/metrics") return;
    deps.log.info("request", {
      id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(seconds * 10000) / 10,
      user: c.get("user")?.username,
    });
  };
}
