import type { Context, ErrorHandler, MiddlewareHandler, Next } from "hono";
import type { AppDeps, AppEnv } from "../../app/deps";
import { type RequestSpan, tracing } from "../../telemetry/trace";
import { bodyLayer } from "./body";
import { csrfProtection } from "./csrf";
import { requestLog, routeOf, unlogged } from "./request-log";
import { beginSecurityHeaders, finishSecurityHeaders } from "./security";
import { sessionMiddleware } from "./session";
import { setupGate } from "./setup-gate";

/**
 * Every request's layers as one Hono middleware, outermost first: the dependencies, the security headers, the
 * session, the body (read within its limit and parsed once), the CSRF check, the setup gate; then the route; then the duration and the log line.
 *
 * Hono runs each middleware it is given as an async step of its own, with a promise and closures per layer on every
 * request. Called here one inside the other, a layer with nothing to do (no credentials, a GET without a body, setup
 * long done) costs a plain function call. A layer that answers itself (the setup gate's redirect) or throws (a
 * failed CSRF check) is handled as Hono would: the answer becomes the response, the error goes to the error handler,
 * so the security headers and the log line apply to it like to any other answer.
 */
export function requestPipeline(deps: AppDeps, onError: ErrorHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  const session = sessionMiddleware();
  const body = bodyLayer(deps.config.bodyLimit);
  const csrf = csrfProtection(deps.config);
  const gate = setupGate();
  const log = requestLog(deps);
  const run = async (c: Context<AppEnv>, next: Next, span?: RequestSpan) => {
    const started = performance.now();
    c.set("deps", deps);
    const security = beginSecurityHeaders(c);
    try {
      // Each layer resolves to its own answer, if it gave one, or to nothing once the route has answered.
      const answer = await session(c, (() => body(c, (() => csrf(c, (() => gate(c, next)) as Next)) as Next)) as Next);
      if (answer && !c.finalized) c.res = answer;
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      c.error = err;
      c.res = await onError(err, c);
    }
    finishSecurityHeaders(c, security);
    span?.answered(routeOf(c), c.res.status);
    log(c, started);
  };
  // With tracing on, a request runs in its server span (what the log leaves out is not traced either); off, this
  // is one check of a variable.
  return (c, next) =>
    tracing && !unlogged(c.req.path) ? tracing.request(c.req.raw, (span) => run(c, next, span)) : run(c, next);
}
