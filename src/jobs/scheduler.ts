import { Cron } from "croner";
import { existsSync, readlinkSync } from "node:fs";
import type { AppDeps } from "../app/deps";
import type { JobOutcome, JobStatus, Scheduler } from "../app/jobs";
import { listJobRuns, upsertJobRun } from "../store/job-runs";
import { type ActiveSpan, traced } from "../telemetry/trace";

/**
 * A singleton run's lock by default: renewed every 5 s while the run lasts, so a replica killed mid-run holds the
 * job up for at most 15 s (a 5-minute lock had the others skip every tick for 5 minutes).
 */
export const DEFAULT_LOCK_TTL_MS = 15_000;

/** A scheduled job: a stable id, a cron schedule (seconds field allowed) and the work. */
export interface JobDefinition {
  id: string;
  description: string;
  /** Cron expression, e.g. "0 * * * *" or "*\/60 * * * * *" (with seconds). */
  schedule: string;
  /** Singleton jobs take a lock so only one replica runs them at a time. */
  singleton: boolean;
  /**
   * How long a run's lock outlives its last renewal (every third of it while the run lasts), so how soon another
   * replica may take over from a replica that died mid-run (default DEFAULT_LOCK_TTL_MS).
   */
  lockTtlMs?: number;
  /** Do the work; the returned text is logged. */
  run(deps: AppDeps): Promise<string | void>;
}

const UTC_NAMES = new Set([
  "UTC",
  "Etc/UTC",
  "UTC0",
  "Etc/UCT",
  "UCT",
  "Etc/Zulu",
  "Zulu",
  "Universal",
  "Etc/Universal",
]);

/**
 * Whether the process's local time is UTC, judged from TZ and /etc/localtime without asking JavaScript's local-time
 * Date methods, whose first use loads the runtime's ICU time-zone code and data (4.6 MiB of a compiled hello world's
 * resident memory when croner computed one next run in local time). Unsure (an /etc/localtime that is a copied file,
 * an /etc/timezone) says no, and the schedules keep reading local time.
 */
export function localTimeIsUtc(env: Record<string, string | undefined> = process.env, etc = "/etc"): boolean {
  if (env.TZ !== undefined) return UTC_NAMES.has(env.TZ.replace(/^:/, ""));
  try {
    const target = readlinkSync(`${etc}/localtime`);
    return [...UTC_NAMES].some((name) => target.endsWith(`/zoneinfo/${name}`));
  } catch (err) {
    // No /etc/localtime (a bare container): the C library and ICU both fall back to UTC, unless /etc/timezone names a zone.
    return (err as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(`${etc}/timezone`);
  }
}

/** Give the jobs the schedules configured for them (MEDIANEST_JOB_SCHEDULES); an unknown id or bad cron throws. */
export function withSchedules(jobs: JobDefinition[], schedules: Record<string, string> = {}): JobDefinition[] {
  const ids = new Set(jobs.map((j) => j.id));
  for (const [id, schedule] of Object.entries(schedules)) {
    if (!ids.has(id))
      throw new Error(`config: MEDIANEST_JOB_SCHEDULES names ${id}, which is no job (jobs: ${[...ids].join(", ")})`);
    try {
      new Cron(schedule, { paused: true });
    } catch (err) {
      throw new Error(`config: MEDIANEST_JOB_SCHEDULES has a bad schedule for ${id}: ${(err as Error).message}`);
    }
  }
  return jobs.map((j) => (schedules[j.id] ? { ...j, schedule: schedules[j.id]! } : j));
}

/** Create the scheduler over a fixed list of jobs; getDeps is called at run time (deps include the scheduler). */
export function createScheduler(jobs: JobDefinition[], getDeps: () => AppDeps): Scheduler {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  if (byId.size !== jobs.length) throw new Error("jobs: duplicate job id");
  const running = new Map<string, Promise<JobOutcome>>();
  const crons = new Map<string, Cron>();

  async function record(deps: AppDeps, id: string, patch: Partial<Omit<JobStatus, "id">>) {
    try {
      await upsertJobRun(deps.database, {
        jobId: id,
        lastStartedAt: patch.lastStartedAt,
        lastFinishedAt: patch.lastFinishedAt,
        lastStatus: patch.lastStatus,
        lastError: patch.lastError,
        lastDurationMs: patch.lastDurationMs,
      });
    } catch (err) {
      deps.log.warn("jobs: unable to record run", { job: id, error: (err as Error).message });
    }
  }

  /** Run a job in a span of its own (with tracing on) that says how the run ended. */
  function execute(job: JobDefinition, tick?: Date): Promise<JobOutcome> {
    const attrs = { "medianest.job.id": job.id, "medianest.job.trigger": tick ? "schedule" : "run-now" };
    return traced(`job ${job.id}`, attrs, async (span) => {
      const outcome = await runJob(job, span, tick);
      span.setAttributes({ "medianest.job.outcome": outcome });
      return outcome;
    });
  }

  async function runJob(job: JobDefinition, span: ActiveSpan, tick?: Date): Promise<JobOutcome> {
    const deps = getDeps();
    // A scheduled run of a singleton claims its tick first, and the claim outlives the run: replicas fire the same
    // tick a few milliseconds apart, and one that fires after the first run released the job's lock would run the
    // tick again.
    if (job.singleton && tick) {
      const next = crons.get(job.id)?.nextRun(tick);
      const claimMs = Math.max(
        1000,
        Math.min((next ? next.getTime() : tick.getTime() + 60_000) - tick.getTime(), 3_600_000),
      );
      const claim = await deps.coordination.locks
        .tryAcquire(`job:${job.id}:tick:${tick.getTime()}`, claimMs)
        .catch(() => undefined);
      if (!claim) return "skipped";
    }
    const lock = job.singleton
      ? await deps.coordination.locks
          .tryAcquire(`job:${job.id}`, job.lockTtlMs ?? DEFAULT_LOCK_TTL_MS)
          .catch(() => undefined)
      : undefined;
    if (job.singleton && !lock) {
      deps.metrics.jobRuns.inc({ job: job.id, outcome: "skipped" });
      return "skipped";
    }
    const ttl = job.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
    const keepAlive = lock
      ? setInterval(() => void lock.extend(ttl).catch(() => false), Math.max(1000, ttl / 3))
      : undefined;
    const started = new Date();
    await record(deps, job.id, { lastStartedAt: started });
    try {
      const summary = await job.run(deps);
      const ms = Date.now() - started.getTime();
      await record(deps, job.id, {
        lastStartedAt: started,
        lastFinishedAt: new Date(),
        lastStatus: "ok",
        lastError: null,
        lastDurationMs: ms,
      });
      deps.metrics.jobRuns.inc({ job: job.id, outcome: "ok" });
      deps.log.debug("job finished", {
        job: job.id,
        duration_ms: ms,
        tick: tick?.toISOString(),
        summary: summary || undefined,
      });
      return "ok";
    } catch (err) {
      const ms = Date.now() - started.getTime();
      const message = (err as Error).message;
      await record(deps, job.id, {
        lastStartedAt: started,
        lastFinishedAt: new Date(),
        lastStatus: "failed",
        lastError: message.slice(0, 500),
        lastDurationMs: ms,
      });
      deps.metrics.jobRuns.inc({ job: job.id, outcome: "failed" });
      deps.log.error("job failed", { job: job.id, error: message });
      span.fail(message);
      return "failed";
    } finally {
      if (keepAlive) clearInterval(keepAlive);
      await lock?.release().catch(() => {});
    }
  }

  function runNow(id: string, tick?: Date): Promise<JobOutcome> {
    const job = byId.get(id);
    if (!job) return Promise.reject(new Error(`jobs: unknown job ${id}`));
    if (running.has(id)) return Promise.resolve("skipped");
    const p = execute(job, tick).finally(() => running.delete(id));
    running.set(id, p);
    return p;
  }

  // In UTC the schedules are computed with UTC Date methods alone (the same instants; see localTimeIsUtc).
  const zone = localTimeIsUtc() ? { utcOffset: 0 } : {};
  return {
    start() {
      for (const job of jobs) {
        if (crons.has(job.id)) continue;
        const cron: Cron = new Cron(
          job.schedule,
          { protect: true, catch: true, ...zone },
          () => void runNow(job.id, tickOf(cron)),
        );
        crons.set(job.id, cron);
      }
    },
    async stop() {
      for (const c of crons.values()) c.stop();
      crons.clear();
      await Promise.allSettled([...running.values()]);
    },
    runNow: (id) => runNow(id),
    has: (id) => byId.has(id),
    async list() {
      const deps = getDeps();
      const rows = await listJobRuns(deps.database);
      const last = new Map(rows.map((r) => [r.jobId, r]));
      return jobs.map((j) => {
        const r = last.get(j.id);
        const next = crons.get(j.id)?.nextRun() ?? new Cron(j.schedule, { paused: true, ...zone }).nextRun();
        return {
          id: j.id,
          description: j.description,
          schedule: j.schedule,
          singleton: j.singleton,
          running: running.has(j.id),
          nextRunAt: next ?? null,
          lastStartedAt: r?.lastStartedAt ?? null,
          lastFinishedAt: r?.lastFinishedAt ?? null,
          lastStatus: r?.lastStatus ?? null,
          lastError: r?.lastError ?? null,
          lastDurationMs: r?.lastDurationMs ?? null,
        };
      });
    },
  };
}

/** The scheduled time of the run that fires now (croner starts it at or just after that time). */
function tickOf(cron: Cron): Date {
  return cron.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date(Math.floor(Date.now() / 1000) * 1000);
}
