import type { JobStatus } from "../../src/app/jobs";
import { CsrfField } from "../components/form";
import { When } from "../components/format";

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
        <table>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col" class="hide-sm">
                Schedule
              </th>
              <th scope="col">Last run</th>
              <th scope="col" class="hide-sm">
                Next run
              </th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.jobs.map((j) => (
              <tr>
                <td>
                  <strong class="mono">{j.id}</strong>
                  <div class="hint">{j.description}</div>
                </td>
                <td class="hide-sm mono">{j.schedule}</td>
                <td>
                  {j.running ? (
                    <span class="pill pill-pending">running</span>
                  ) : j.lastStatus ? (
                    <span
                      class={`pill ${j.lastStatus === "ok" ? "pill-up" : j.lastStatus === "failed" ? "pill-down" : ""}`}
                    >
                      {j.lastStatus}
                    </span>
                  ) : (
                    <span class="muted">never</span>
                  )}
                  {j.lastFinishedAt ? (
                    <div class="hint">
                      <When at={j.lastFinishedAt} />
                      {j.lastDurationMs !== null ? ` · ${j.lastDurationMs} ms` : ""}
                    </div>
                  ) : null}
                  {j.lastStatus === "failed" && j.lastError ? <div class="field-error">{j.lastError}</div> : null}
                </td>
                <td class="hide-sm">{j.nextRunAt ? <When at={j.nextRunAt} /> : "—"}</td>
                <td>
                  <form
                    method="post"
                    action={`/admin/jobs/${j.id}/run`}
                    hx-post={`/admin/jobs/${j.id}/run`}
                    hx-target="#jobs-table"
                    hx-swap="outerHTML"
                  >
                    <CsrfField token={props.csrf} />
                    <button class="btn btn-small" type="submit" disabled={j.running}>
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
      <p class="muted">Singleton jobs run on one replica at a time.</p>
      <JobsTable {...props} />
    </section>
  );
}
