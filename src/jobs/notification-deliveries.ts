import { DELIVERY_JOB_ID } from "../app/jobs";
import type { JobDefinition } from "./scheduler";

/** Send queued outbound notifications: claim due deliveries, send, retry with backoff, give up after 6 attempts. */
export const notificationDeliveriesJob: JobDefinition = {
  id: DELIVERY_JOB_ID,
  description: "Send notifications to webhooks, Discord, ntfy and email; retry failures with backoff.",
  schedule: "*/10 * * * * *",
  singleton: true,
  async run(deps) {
    // Loaded at the first run: a server starts without the delivery code.
    const [{ alertAdminsOfFailedDelivery }, { processDueDeliveries }] = await Promise.all([
      import("../services/admin-alerts"),
      import("../services/outbound-notifications"),
    ]);
    const s = await processDueDeliveries(deps, {
      onGaveUp: (item, error) => alertAdminsOfFailedDelivery(deps, item, error).then(() => {}),
    });
    return `${s.sent} sent, ${s.retried} to retry, ${s.failed} failed`;
  },
};
