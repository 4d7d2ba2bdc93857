import type { Context } from "hono";
import { routePath } from "hono/route";
import type { AppDeps, AppEnv } from "../../app/deps";

/**
 * The end of every request (the request pipeline calls it once the request has its answer): observe the duration by
 * route pattern (never by raw path) and log one JSON line, with the client's X-Request-Id or a new id.
 */
export function requestLog(deps: AppDeps): (c: Context<AppEnv>, started: number) => void {
  return (c, started) => {
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const method = c.req.method;
    const matched = routePath(c);
    deps.metrics.httpDuration.observe(
      method,
      status === 404 && matched === "/*" ? "unmatched" : matched,
      status,
      seconds,
    );
    const path = c.req.path;
    if (path === "/healthz" || path === "/metrics") return;
    deps.log.request({
      id: c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID(),
      method,
      path,
      status,
      ms: Math.round(seconds * 10000) / 10,
      user: c.get("user")?.username,
    });
  };
}
