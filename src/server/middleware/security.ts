import type { Context } from "hono";
import type { AppEnv, SecurityState } from "../../app/deps";

// A strict CSP: scripts and styles only from this origin, no inline script.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Views use style="" attributes for layout details (widths, progress bars); stylesheets come from /static.
  "style-src 'self' 'unsafe-inline'",
  // Plex account avatars come from plex.tv; every other image is ours (Plex posters go through /img/plex).
  "img-src 'self' data: https://plex.tv https://*.plex.tv",
  "connect-src 'self'",
  "form-action 'self' https://app.plex.tv",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'",
].join("; ");

/**
 * The headers every answer carries. No Strict-Transport-Security: TLS ends at the user's proxy, which sets it.
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

// A response built with these headers costs far less than one whose headers are set afterwards: touching a
// Response's headers from JavaScript (even to read them) costs more than Hono's whole routing.
// A page goes out as its UTF-8 bytes: Bun sends a body given as a fresh string at a higher cost than encoding it
// here.
const UTF8 = new TextEncoder();
const PAGE_HEADERS = new Headers(
  Object.fromEntries([...SECURITY_HEADERS, ["content-type", "text/html; charset=UTF-8"]]),
);

/**
 * Start a request's security headers: note whether a route sets headers of its own on the context. Pages sent with
 * sendPage come with the headers already, unless the route set headers of its own (a cookie, an htmx instruction),
 * in which case finishSecurityHeaders adds them like on any other response.
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
}

/** Answer with an HTML document, security headers included. */
export function sendPage(c: Context<AppEnv>, html: string, status: number): Response {
  const state = c.get("security");
  if (!state || state.headersSet || c.finalized) return c.html(html, status as 200);
  state.built = new Response(UTF8.encode(html), { status, headers: PAGE_HEADERS });
  return state.built;
}
