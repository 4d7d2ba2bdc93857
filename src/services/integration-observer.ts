import type { IntegrationObserver } from "../integrations/http";
import type { AppDeps } from "../app/deps";

/** Feed integration call outcomes into the metrics registry. */
export function integrationObserver(deps: Pick<AppDeps, "metrics">): IntegrationObserver {
  return {
    onIntegrationError: (service, kind) => deps.metrics.integrationErrors.inc({ service, kind }),
    onDuration: (service, seconds) => deps.metrics.integrationDuration.observe({ service }, seconds),
  };
}
