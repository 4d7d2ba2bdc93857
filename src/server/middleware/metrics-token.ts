import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { AppEnv } from "../../app/deps";

const CHALLENGE = 'Bearer realm="metrics"';

/**
 * Guard /metrics with MEDIANEST_METRICS_TOKEN: it answers only with `Authorization: Bearer <token>` (compared in
 * constant time), 401 with a `WWW-Authenticate` challenge otherwise; with no token configured it stays open.
 */
export function metricsToken(token: string | undefined): MiddlewareHandler<AppEnv> {
  if (!token) return (_c, next) => next();
  const refuse = (text: string) => ({
    wwwAuthenticateHeader: CHALLENGE,
    // A Response, not a string: bearerAuth would answer a header that is not a bearer token with 400.
    message: () => new Response(`${text}\n`, { status: 401, headers: { "content-type": "text/plain; charset=UTF-8" } }),
  });
  const missing = refuse("/metrics needs the header Authorization: Bearer <MEDIANEST_METRICS_TOKEN>.");
  return bearerAuth({
    token,
    noAuthenticationHeader: missing,
    invalidAuthenticationHeader: missing,
    invalidToken: refuse("/metrics: that token is not MEDIANEST_METRICS_TOKEN."),
  });
}
