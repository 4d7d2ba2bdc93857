import type { Context } from "hono";
import { routePath } from "hono/route";
import type { AppDeps, AppEnv } from "../../app/deps";

/** The route pattern that answered, or "unmatched" for a 404 no route claimed (never the raw path). */
export function routeOf(c: Context<AppEnv>): string {
  const matched = routePath(c);
  return c.res.status === 404 && matched === "/*" ? "unmatched" : matched;
}

/** Paths that write no log line and no trace: health checks and scrapes, every few seconds. */
export function unlogged(path: string): boolean {
  return path === "/healthz" || path === "/metrics";
}

/**
 * The end of every request (the request pipeline calls it once the request has its answer): observe the duration by
 * route pattern (never by raw path) and log one JSON line, with the client's X-Request-Id or a new id.
 */
export function requestLog(deps: AppDeps): (c: Context<AppEnv>, started: number) => void {
  return (c, started) => {
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const method = c.req.method;
    const route = routeOf(c);
    deps.metrics.httpDuration.observe(method, route, status, seconds);
    const path = c.req.path;
    if (unlogged(path)) return;
    deps.log.request({
      request_id: c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID(),
      method,
      path,
      route,
      status,
      duration_ms: Math.round(seconds * 10000) / 10,
      user: c.get("user")?.username,
    });
  };
}
