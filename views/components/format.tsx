/** Format a date as "2026-11-22 14:03 UTC" (server-rendered, so in UTC). */
export function formatDate(d: Date | null | undefined): string {
  if (!d) return "";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}
