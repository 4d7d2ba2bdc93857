import type { ReadinessReport } from "../metrics/metrics";
import type { AppDeps } from "./deps";

/** This replica's readiness: its checks, and the drain that overrides them from SIGTERM on. */
export interface Readiness {
  /** Not ready from now on, whatever the checks say (serve calls it on SIGTERM; there is no way back). */
  drain(): void;
  readonly draining: boolean;
  /** The report: while draining, no check is made. */
  check(): Promise<ReadinessReport>;
}

/** Readiness from the database, the schema check and coordination (Redis or memory), read from deps at each check. */
export function createReadiness(deps: () => Pick<AppDeps, "database" | "coordination" | "schemaCurrent">): Readiness {
  let draining = false;
  return {
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    async check() {
      if (draining) return { ready: false, draining: true };
      const d = deps();
      const [database, coordination] = await Promise.all([d.database.ping(), d.coordination.ping()]);
      const migrations = database && (await d.schemaCurrent());
      return { ready: database && migrations && coordination, draining: false, database, migrations, coordination };
    },
  };
}
