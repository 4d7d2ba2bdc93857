import { raw } from "hono/html";

// "…" as a character reference: one character beyond Latin-1 makes a whole page a string of two-byte characters,
// twice the memory to build and slower to encode on every request (docs/performance.md).
export const ELLIPSIS = raw("&#8230;");

/** Format a date as "2026-11-22 14:03 UTC": how the server writes a moment (public/app.js shows it in local time). */
export function formatDate(d: Date | null | undefined): string {
  if (!d) return "";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

const WEEK_S = 7 * 86_400;

/** Say how long ago a moment was ("just now", "5 min ago", "3 h ago", "2 days ago"), the full date beyond a week. */
export function formatAgo(d: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < WEEK_S) return `${plural(Math.floor(s / 86_400), "day", "days")} ago`;
  return formatDate(d);
}

/**
 * A moment as a <time> element: written in UTC, which public/app.js rewrites into the viewer's time zone (no inline
 * script, so the CSP holds); the title keeps the UTC time, and without JavaScript the UTC text stays.
 */
export function When(props: { at: Date }) {
  const utc = formatDate(props.at);
  return (
    <time datetime={props.at.toISOString()} title={utc} data-local="text">
      {utc}
    </time>
  );
}

/** A <time> element showing how long ago (the moment itself beyond a week); its title gives the exact time. */
export function Ago(props: { at: Date; now?: number }) {
  const now = props.now ?? Date.now();
  if (now - props.at.getTime() >= WEEK_S * 1000) return <When at={props.at} />;
  return (
    <time datetime={props.at.toISOString()} title={formatDate(props.at)} data-local="title">
      {formatAgo(props.at, now)}
    </time>
  );
}

/**
 * Say a count with its noun in the right number ("1 user", "2 users", "0 users"), by English's plural rule: "one"
 * for exactly 1 (or -1), as `Intl.PluralRules("en")` says of a count. Written out because the first `Intl` object makes the
 * runtime load its ICU locale data, which was 6.5 MiB of a compiled hello world's resident memory.
 */
export function plural(n: number, one: string, other: string): string {
  return `${n} ${Math.abs(n) === 1 ? one : other}`;
}

/** The words of a notification's link: "Watch in Plex" for a link into Plex, "Open" for a page of MediaNest. */
export function linkLabel(link: string): string {
  return link.startsWith("https://app.plex.tv/") ? "Watch in Plex" : "Open";
}
