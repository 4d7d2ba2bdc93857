/** Format a date as "2026-11-22 14:03 UTC" (server-rendered, so in UTC). */
export function formatDate(d: Date | null | undefined): string {
  if (!d) return "";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** Say how long ago a moment was ("just now", "5 min ago", "3 h ago", "2 days ago"), the full date beyond a week. */
export function formatAgo(d: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 7 * 86_400) return `${Math.floor(s / 86_400)} day${s < 2 * 86_400 ? "" : "s"} ago`;
  return formatDate(d);
}

/** A <time> element showing how long ago, with the exact moment as its title. */
export function Ago(props: { at: Date }) {
  return (
    <time datetime={props.at.toISOString()} title={formatDate(props.at)}>
      {formatAgo(props.at)}
    </time>
  );
}
