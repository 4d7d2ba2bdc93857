import { html, raw } from "hono/html";
import type { Child } from "hono/jsx";
import { assetUrl } from "../../src/server/assets";
import { BellCount, NoticeBanner } from "../partials/live";

/** What the layout needs to know about the viewer. */
export interface Viewer {
  username: string;
  displayName: string;
  role: "admin" | "user";
  avatarUrl: string | null;
  unread: number;
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
  { href: "/status", label: "Status" },
];
const adminNav = [{ href: "/admin", label: "Admin" }];

// The parts of every page that never change are rendered once: the layout is on every request's path.
const HEAD_START = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">';
const SKIP_LINK = '<a class="skip-link" href="#main">Skip to content</a>';
const THEME_TOGGLE = '<button type="button" class="icon-btn" data-theme-toggle aria-label="Switch light or dark theme" title="Theme">◐</button>';
const BELL_ICON =
  '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"></path><path d="M13.7 21a2 2 0 0 1-3.4 0"></path></svg>';
const FOOTER = '<footer class="site-footer">MediaNest</footer><div id="toasts" class="toasts" aria-live="polite"></div>';
let assetsHtml: string | undefined;
let brandHtml: string | undefined;

function headAssets(): string {
  // Scripts are not deferred: htmx initialises on a timer once the document is past "loading", and a deferred
  // hx-sse.js still downloading on a cold cache then registers too late and the live stream never starts.
  assetsHtml ??=
    '<meta name="color-scheme" content="light dark"><meta name="theme-color" content="#e5a00d">' +
    '<meta name="htmx-config" content="{&quot;defaultTimeout&quot;:15000}">' +
    `<link rel="stylesheet" href="${assetUrl("app.css")}"><link rel="icon" href="${assetUrl("icon.svg")}" type="image/svg+xml">` +
    '<link rel="apple-touch-icon" href="/icon-192.png"><link rel="manifest" href="/manifest.webmanifest">' +
    `<script src="${assetUrl("app.js")}"></script><script src="${assetUrl("htmx.js")}"></script><script src="${assetUrl("hx-sse.js")}"></script>`;
  return assetsHtml;
}

function brand(): string {
  brandHtml ??= `<a class="brand" href="/"><img src="${assetUrl("icon.svg")}" alt="" width="28" height="28">MediaNest</a>`;
  return brandHtml;
}

function isCurrent(path: string, href: string): boolean {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

/** Render the page shell: head, header with navigation and theme toggle, main landmark, footer. */
export function BaseLayout(props: LayoutProps) {
  // A template rather than JSX: the shell is on every page's path, and a template is several times cheaper.
  const v = props.viewer;
  const nav = v
    ? [...userNav, ...(v.role === "admin" ? adminNav : [])].map(
        (n) => html`<a href="${n.href}"${isCurrent(props.path, n.href) ? raw(' aria-current="page"') : ""}>${n.label}</a>`,
      )
    : [];
  const tools = v
    ? html`<a class="icon-btn" href="/notifications" aria-label="Notifications" title="Notifications">${raw(BELL_ICON)}<span class="badge" id="bell-count" aria-live="polite">${BellCount({ unread: v.unread })}</span></a><a class="icon-btn account-link" href="/account" title="Your account">${v.displayName}</a>`
    : "";
  return html`<html lang="en"><head>${raw(HEAD_START)}<title>${props.title === "MediaNest" ? "MediaNest" : `${props.title} · MediaNest`}</title>${
    props.csrfToken ? html`<meta name="csrf-token" content="${props.csrfToken}">` : ""
  }${raw(headAssets())}</head><body>${raw(SKIP_LINK)}<header class="site-header"><div class="bar">${raw(brand())}<nav class="nav" aria-label="Main">${nav}</nav><div class="header-tools">${raw(THEME_TOGGLE)}${tools}</div></div></header><div id="notice-banner">${NoticeBanner({ text: props.notice ?? null })}</div><main id="main" tabindex="-1"><div id="alerts" aria-live="assertive"></div>${props.children}</main>${raw(FOOTER)}${
    v ? raw('<div id="live" hx-sse:connect="/events" hx-swap="none" hidden></div>') : ""
  }</body></html>`;
}
