import cronstrue from "cronstrue";
import type { JobStatus } from "../../src/app/jobs";
import { CsrfField } from "../components/form";
import { When } from "../components/format";

/** Say a cron schedule in words ("Every minute", "At 03:41"); the schedule itself when it cannot be read. */
export function describeSchedule(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
  } catch {
    return cron;
  }
}

const OUTCOME: Record<NonNullable<JobStatus["lastStatus"]>, { label: string; pill: string }> = {
  ok: { label: "succeeded", pill: "pill-up" },
  failed: { label: "failed", pill: "pill-down" },
  skipped: { label: "skipped: already running", pill: "" },
};

/** The jobs table: schedule, last and next run, running state and a run-now button per job. */
export function JobsTable(props: { jobs: JobStatus[]; csrf?: string; message?: string }) {
  return (
    <div id="jobs-table">
      {props.message ? (
        <div class="alert alert-info" role="status">
          {props.message}
        </div>
      ) : null}
      <div class="table-wrap">
        <table class="table-stack">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Runs</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.jobs.map((j) => (
              <tr>
                <td data-label="Job">
                  {j.description}
                  <div class="hint mono">{j.id}</div>
                </td>
                <td data-label="Runs">
                  <span title={`cron: ${j.schedule}`}>{describeSchedule(j.schedule)}</span>
                  <div class="hint">{j.singleton ? "on one server at a time" : "on every server"}</div>
                </td>
                <td data-label="Last run">
                  {j.running ? (
                    <span class="pill pill-pending">running now</span>
                  ) : j.lastStatus ? (
                    <span class={`pill ${OUTCOME[j.lastStatus].pill}`}>{OUTCOME[j.lastStatus].label}</span>
                  ) : (
                    <span class="muted">not yet</span>
                  )}
                  {j.lastFinishedAt ? (
                    <div class="hint">
                      <When at={j.lastFinishedAt} />
                      {j.lastDurationMs !== null ? ` · took ${j.lastDurationMs} ms` : ""}
                    </div>
                  ) : null}
                  {j.lastStatus === "failed" && j.lastError ? <div class="field-error">{j.lastError}</div> : null}
                </td>
                <td data-label="Next run">{j.nextRunAt ? <When at={j.nextRunAt} /> : "—"}</td>
                <td>
                  <form
                    method="post"
                    action={`/admin/jobs/${j.id}/run`}
                    hx-post={`/admin/jobs/${j.id}/run`}
                    hx-target="#jobs-table"
                    hx-swap="outerHTML"
                  >
                    <CsrfField token={props.csrf} />
                    <button
                      class="btn btn-small"
                      type="submit"
                      disabled={j.running}
                      aria-label={`Run “${j.description}” now`}
                    >
                      Run now
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The admin jobs page. */
export function JobsPage(props: { jobs: JobStatus[]; csrf?: string; message?: string }) {
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Scheduled jobs</h1>
      <p class="muted">
        Work MediaNest does on its own, on a timetable (in the server's time zone). When several MediaNest servers share
        one database, a job marked "on one server at a time" runs on only one of them.
      </p>
      <JobsTable {...props} />
    </section>
  );
}
