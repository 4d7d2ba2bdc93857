import type { JobDefinition } from "./scheduler";

/** Check the channel and playlist subscriptions that are due and queue their new videos. */
export const downloadSubscriptionsJob: JobDefinition = {
  id: "download-subscriptions",
  description:
    "Check subscribed channels and playlists (each as often as the download settings say) and queue their new videos.",
  schedule: "40 * * * * *",
  singleton: true,
  lockTtlMs: 10 * 60_000,
  async run(deps) {
    const { checkDueSubscriptions } = await import("../services/download-subscriptions");
    return checkDueSubscriptions(deps);
  },
};
