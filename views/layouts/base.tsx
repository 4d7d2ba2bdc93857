import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { assetUrl } from "../../src/app/assets";
import { once } from "../components/kept";
import { BellCount, NoticeBanner, PendingCount } from "../partials/live";

/** What the layout needs to know about the viewer. */
export interface Viewer {
  username: string;
  displayName: string;
  role: "admin" | "user";
  avatarUrl: string | null;
  unread: number;
  /** Admins: requests waiting for approval. */
  pendingRequests?: number;
}

export interface LayoutProps {
  title: string;
  /** The path of the current page, to mark the navigation entry. */
  path: string;
  viewer?: Viewer;
  csrfToken?: string;
  notice?: string | null;
  children: Child;
}

const userNav = [
  { href: "/", label: "Home" },
  // Search results and title pages are reached from Discover: it stays the current entry there.
  { href: "/discover", label: "Discover", also: ["/search", "/title"] },
  { href: "/requests", label: "Requests" },
  { href: "/downloads", label: "Downloads" },
  { href: "/library", label: "Library" },
  { href: "/status", label: "Status" },
];
const adminNav = [
  { href: "/admin/requests", label: "Approvals" },
  { href: "/admin", label: "Admin", except: ["/admin/requests"] },
];

// The parts of every page that never change are written in JSX and rendered once, on first use (the asset URLs
// carry content hashes known only once the asset table is read).

const headStart = once(() => (
  <>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </>
));

// Scripts are not deferred: htmx initialises on a timer once the document is past "loading", and a deferred
// hx-sse.js still downloading on a cold cache then registers too late and the live stream never starts.
const headAssets = once(() => (
  <>
    <meta name="color-scheme" content="light dark" />
    <meta name="theme-color" content="#e5a00d" />
    <meta name="htmx-config" content='{"defaultTimeout":15000}' />
    <link rel="stylesheet" href={assetUrl("app.css")} />
    <link rel="icon" href={assetUrl("icon.svg")} type="image/svg+xml" />
    <link rel="apple-touch-icon" href="/icon-192.png" />
    <link rel="manifest" href="/manifest.webmanifest" />
    <script src={assetUrl("app.js")}></script>
    <script src={assetUrl("htmx.js")}></script>
    <script src={assetUrl("hx-sse.js")}></script>
  </>
));

const skipLink = once(() => (
  <a class="skip-link" href="#main">
    Skip to content
  </a>
));

const brand = once(() => (
  <a class="brand" href="/">
    <img src={assetUrl("icon.svg")} alt="" width="28" height="28" />
    MediaNest
  </a>
));

// The toggle's symbol (◐) as a character reference: one character beyond Latin-1 makes the whole page a string of
// two-byte characters, twice the memory to build and encode on every request.
const themeToggle = once(() => (
  <button type="button" class="icon-btn" data-theme-toggle="" aria-label="Switch light or dark theme" title="Theme">
    {raw("&#9680;")}
  </button>
));

const bellIcon = once(() => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
    <path d="M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"></path>
    <path d="M13.7 21a2 2 0 0 1-3.4 0"></path>
  </svg>
));

const footer = once(() => (
  <>
    <footer class="site-footer">MediaNest</footer>
    <div id="toasts" class="toasts" aria-live="polite"></div>
  </>
));

function isCurrent(path: string, entry: { href: string; also?: string[]; except?: string[] }): boolean {
  const under = (href: string) => path === href || path.startsWith(href + "/");
  if (entry.href === "/") return path === "/";
  if ((entry.except ?? []).some(under)) return false;
  return under(entry.href) || (entry.also ?? []).some(under);
}

/** Markup of a JSX child: elements render themselves, text is escaped; async components give a promise. */
function markup(child: Child): string | Promise<string> {
  if (child === null || child === undefined || typeof child === "boolean") return "";
  if (typeof child === "string") return Bun.escapeHTML(child);
  if (typeof child === "number") return String(child);
  if (Array.isArray(child)) {
    const parts = child.map(markup);
    return parts.some((p) => typeof p !== "string") ? Promise.all(parts).then((ps) => ps.join("")) : parts.join("");
  }
  // JSX elements and hono's escaped strings
  return (child as { toString(): string | Promise<string> }).toString();
}

/** Render the page shell: head, header with navigation and theme toggle, main landmark, footer. */
export function BaseLayout(props: LayoutProps): string | Promise<string> {
  const content = markup(props.children);
  return typeof content === "string" ? shell(props, content) : content.then((c) => shell(props, c));
}

// String building per request, not JSX: measured A/B, a JSX shell cost GET / far more than the 5 % of its rate a
// layout may take (docs/performance.md, "Measured decisions"). Every value from data goes through Bun.escapeHTML.
function shell(props: LayoutProps, content: string): string {
  const v = props.viewer;
  let nav = "";
  let tools = "";
  if (v) {
    for (const n of v.role === "admin" ? [...userNav, ...adminNav] : userNav) {
      // The approvals entry carries the live count of requests waiting (the SSE stream swaps its inside).
      const count =
        n.href === "/admin/requests"
          ? ` <span class="badge" id="pending-requests" title="Requests waiting for approval">${PendingCount({ pending: v.pendingRequests ?? 0 })}</span>`
          : "";
      nav += `<a href="${n.href}"${isCurrent(props.path, n) ? ' aria-current="page"' : ""}>${n.label}${count}</a>`;
    }
    tools =
      `<a class="icon-btn" href="/notifications" aria-label="Notifications" title="Notifications">${bellIcon()}<span class="badge" id="bell-count" aria-live="polite">${BellCount({ unread: v.unread })}</span></a>` +
      `<a class="icon-btn account-link" href="/account" title="Your account">${Bun.escapeHTML(v.displayName)}</a>`;
  }
  const title = props.title === "MediaNest" ? "MediaNest" : `${Bun.escapeHTML(props.title)} · MediaNest`;
  const csrf = props.csrfToken ? `<meta name="csrf-token" content="${Bun.escapeHTML(props.csrfToken)}">` : "";
  const notice = props.notice ? NoticeBanner({ text: props.notice }).toString() : "";
  return (
    `<html lang="en"><head>${headStart()}<title>${title}</title>${csrf}${headAssets()}</head><body>${skipLink()}` +
    `<header class="site-header"><div class="bar">${brand()}<nav class="nav" aria-label="Main">${nav}</nav><div class="header-tools">${themeToggle()}${tools}</div></div></header>` +
    `<div id="notice-banner">${notice}</div><main id="main" tabindex="-1"><div id="alerts" aria-live="assertive"></div>${content}</main>${footer()}` +
    (v ? '<div id="live" hx-sse:connect="/events" hx-swap="none" hidden></div>' : "") +
    "</body></html>"
  );
}
