import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppDeps, AppEnv } from "../deps";

/**
 * The outermost layer: hand the request its dependencies and an id, then log one JSON line for it and observe its
 * duration by route pattern (never by raw path).
 */
export function requestLog(deps: AppDeps): MiddlewareHandler<AppEnv> {
  // One histogram child per method, route pattern and status, looked up by a string instead of hashing labels on
  // every request. Bounded: route patterns and status codes are few.
  const observers = new Map<string, { observe(v: number): void }>();
  return async (c, next) => {
    const start = performance.now();
    c.set("deps", deps);
    c.set("requestId", c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID());
    await next();
    const seconds = (performance.now() - start) / 1000;
    const matched = routePath(c);
    const route = c.res.status === 404 && matched === "/*" ? "unmatched" : matched;
    const key = `${c.req.method} ${c.res.status} ${route}`;
    let observer = observers.get(key);
    if (!observer) {
      observer = deps.metrics.httpDuration.labels(c.req.method, route, String(c.res.status));
      observers.set(key, observer);
    }
    observer.observe(seconds);
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
