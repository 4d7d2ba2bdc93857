import type { JobDefinition } from "./scheduler";

/** Reconcile requests with Seerr's request list every five minutes. */
export const requestSyncJob: JobDefinition = {
  id: "request-sync",
  description:
    "Bring requests in line with Seerr: states that changed there, requests people made in Seerr itself, requests removed there.",
  schedule: "30 */5 * * * *",
  singleton: true,
  lockTtlMs: 4 * 60_000,
  async run(deps) {
    // Loaded at the first run: a server starts without the Seerr client.
    const { describeSync, syncRequests } = await import("../services/request-sync");
    return describeSync(await syncRequests(deps));
  },
};
