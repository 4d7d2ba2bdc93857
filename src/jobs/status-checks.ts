import type { JobDefinition } from "./scheduler";

/** Check every configured integration and refresh the status overview. */
export const statusChecksJob: JobDefinition = {
  id: "status-checks",
  description: "Check Plex, Seerr, Uptime Kuma and yt-dlp, read the Kuma status page, and refresh the status page.",
  schedule: "0 * * * * *",
  singleton: true,
  lockTtlMs: 60_000,
  async run(deps) {
    // Loaded at the first run: a server starts without the integration clients.
    const { runStatusChecks } = await import("../services/status");
    const { overview, changed } = await runStatusChecks(deps);
    const down = overview.tiles.filter((t) => t.state === "down").length;
    return `${overview.tiles.length} services, ${down} down${changed ? ", changed" : ""}`;
  },
};
