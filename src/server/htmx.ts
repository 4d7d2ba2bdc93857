// What htmx 4 asks and how to answer it (a fragment or the whole page, a redirect, another target), in one place for
// the layers and the pages alike. Header names: node_modules/htmx.org/dist/skills/htmx-guidance.md, "HTTP Headers".
import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { BaseLayout } from "../../views/layouts/base";
import type { AppEnv } from "../app/deps";
import { HSTS, SECURITY_HEADERS } from "./middleware/security";
import { isSecureRequest } from "./request";
import { getNotice, peekNotice } from "../services/notice";
import { countUnreadNotifications } from "../store/notifications";
import { countPendingMediaRequests } from "../store/media-requests";

/** True for a request htmx sent (htmx 4 sends `HX-Request: true` with every request it makes). */
export function isHtmxRequest(c: Context): boolean {
  return c.req.header("hx-request") === "true";
}

/**
 * True when htmx asked for a part of a page: not a boosted link, and not a request whose answer htmx swaps into
 * the whole body or picks from with `hx-select` (those say `HX-Request-Type: full` and get the whole page).
 */
export function isFragmentRequest(c: Context): boolean {
  return isHtmxRequest(c) && c.req.header("hx-request-type") !== "full" && c.req.header("hx-boosted") !== "true";
}

/**
 * Send the browser to another address: `HX-Redirect` for htmx (its fetch would follow a 303 and swap the next page
 * into the target), a 303 otherwise. `htmxStatus` is the status htmx sees with the header (htmx redirects on any).
 */
export function redirect(c: Context, to: string, htmxStatus: 200 | 401 = 200): Response {
  if (isHtmxRequest(c)) {
    c.header("HX-Redirect", to);
    return c.body(null, htmxStatus);
  }
  return c.redirect(to, 303);
}

/** Have htmx swap this answer into another element than the request's target, with another swap style. */
export function retarget(c: Context, selector: string, swap: string): void {
  c.header("HX-Retarget", selector);
  c.header("HX-Reswap", swap);
}

/** Answer with the fragment for htmx requests and the full page otherwise, so deep links and no-JS work. */
export async function renderPage(
  c: Context<AppEnv>,
  title: string,
  content: JSX.Element,
  opts: {
    status?: number;
    fragment?: JSX.Element /** Read nothing from the database (it may be what failed). */;
    offline?: boolean;
  } = {},
) {
  const status = (opts.status ?? 200) as 200;
  if (isFragmentRequest(c)) return c.html(opts.fragment ?? content, status);
  const user = c.get("user");
  const deps = c.get("deps");
  let unread = 0;
  let pendingRequests = 0;
  let notice: string | null = null;
  if (!opts.offline) {
    // Most pages find the notice in this replica's copy and need not wait for it.
    const known = peekNotice(deps);
    const reading = known !== undefined ? known : getNotice(deps).catch(() => null);
    if (user)
      [unread, notice, pendingRequests] = await Promise.all([
        countUnreadNotifications(deps.database, user.id),
        reading,
        user.role === "admin" ? countPendingMediaRequests(deps.database) : 0,
      ]);
    else notice = reading instanceof Promise ? await reading : reading;
  }
  const layout = BaseLayout({
    title,
    path: c.req.path,
    viewer: user
      ? {
          username: user.username,
          displayName: user.displayName,
          role: user.role,
          avatarUrl: user.avatarUrl,
          unread,
          pendingRequests,
        }
      : undefined,
    notice,
    csrfToken: c.get("session")?.csrfToken,
    children: content,
  });
  const page = typeof layout === "string" ? layout : await layout;
  return sendPage(c, `<!DOCTYPE html>${page}`, status);
}

// A response built with the security headers costs far less than one whose headers are set afterwards: touching a
// Response's headers from JavaScript (even to read them) costs more than Hono's whole routing.
// A page goes out as its UTF-8 bytes: Bun sends a body given as a fresh string at a higher cost than encoding it
// here.
const UTF8 = new TextEncoder();
/** The security headers and a content type, without and with Strict-Transport-Security (behind TLS). */
function preparedHeaders(contentType: string): readonly [Headers, Headers] {
  return [
    new Headers(Object.fromEntries([...SECURITY_HEADERS, ["content-type", contentType]])),
    new Headers(Object.fromEntries([...SECURITY_HEADERS, HSTS, ["content-type", contentType]])),
  ];
}
const PAGE_HEADERS = preparedHeaders("text/html; charset=UTF-8");
const TEXT_HEADERS = preparedHeaders("text/plain; charset=UTF-8");

/**
 * Answer with an HTML document, security headers included, as one prepared response; the pipeline's security layer
 * then leaves it alone. A route that set headers of its own gets a plain answer, which that layer completes.
 */
export function sendPage(c: Context<AppEnv>, html: string, status: number): Response {
  return prepared(c, pageBytes(html), status, PAGE_HEADERS) ?? c.html(html, status as 200);
}

// A page that is the same for everyone (the anonymous home page) is the same string every time: its bytes are kept
// from the last page sent. Comparing two strings costs a fraction of encoding one (docs/performance.md); a body's
// bytes are only read, so responses may share them.
let lastHtml = "";
let lastBytes = UTF8.encode("");
function pageBytes(html: string): Uint8Array<ArrayBuffer> {
  if (html !== lastHtml) {
    lastBytes = UTF8.encode(html);
    lastHtml = html;
  }
  return lastBytes;
}

/** Answer with plain text as one prepared response, like sendPage (the health check: every few seconds). */
export function sendText(c: Context<AppEnv>, text: string, status = 200): Response {
  return prepared(c, text, status, TEXT_HEADERS) ?? c.text(text, status as 200);
}

function prepared(
  c: Context<AppEnv>,
  body: BodyInit,
  status: number,
  [plain, tls]: readonly [Headers, Headers],
): Response | undefined {
  const state = c.get("security");
  if (!state || state.headersSet || c.finalized) return undefined;
  state.built = new Response(body, { status, headers: isSecureRequest(c) ? tls : plain });
  return state.built;
}
