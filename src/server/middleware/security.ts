import type { Context } from "hono";
import type { AppEnv, SecurityState } from "../../app/deps";
import { isSecureRequest } from "../request";

// A strict CSP: scripts and styles only from this origin, no inline script.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // No inline style either: views use classes from /static/app.css (progress bars are SVG, sized by attributes).
  "style-src 'self'",
  // Plex account avatars come from plex.tv; every other image is ours (Plex posters go through /img/plex).
  "img-src 'self' data: https://plex.tv https://*.plex.tv",
  "connect-src 'self'",
  "form-action 'self' https://app.plex.tv",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'",
].join("; ");

// Not hono/secure-headers, which can express this policy but sets the headers on each response after it is built:
// measured (bun run bench with BENCH_COMPARE) at well over 5 % of the page rate against a prepared response.
/**
 * Strict-Transport-Security, sent on every answer that came over TLS (an https public URL, or https reported by a
 * trusted proxy: isSecureRequest); never over plain http, where it would mean nothing and a homelab on http stays
 * reachable. No includeSubDomains: other services of the household's domain may not speak TLS.
 */
export const HSTS = ["strict-transport-security", "max-age=31536000"] as const;

/**
 * The headers every answer carries (and HSTS behind TLS).
 * Left out: X-XSS-Protection, X-Download-Options and X-Permitted-Cross-Domain-Policies, read only by Internet
 * Explorer and Flash.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["content-security-policy", CSP],
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "same-origin"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-frame-options", "SAMEORIGIN"],
  ["permissions-policy", "camera=(), microphone=(), geolocation=()"],
];

/**
 * Start a request's security headers: note whether a route sets headers of its own on the context. Pages sent with
 * sendPage (src/server/htmx.ts) come with the headers already, unless the route set headers of its own (a cookie,
 * an htmx instruction), in which case finishSecurityHeaders adds them like on any other response.
 */
export function beginSecurityHeaders(c: Context<AppEnv>): SecurityState {
  const state: SecurityState = { headersSet: false, built: undefined };
  const header = c.header;
  c.header = ((name: string, value?: string, options?: { append?: boolean }) => {
    state.headersSet = true;
    header(name, value as string, options);
  }) as typeof c.header;
  c.set("security", state);
  return state;
}

/** Set the security headers on the answer, unless sendPage built it with them; a header a route set itself is kept. */
export function finishSecurityHeaders(c: Context<AppEnv>, state: SecurityState): void {
  if (state.built && state.built === c.res) return;
  const headers = c.res.headers;
  for (const [name, value] of SECURITY_HEADERS) if (!headers.has(name)) headers.set(name, value);
  if (isSecureRequest(c) && !headers.has(HSTS[0])) headers.set(HSTS[0], HSTS[1]);
}
