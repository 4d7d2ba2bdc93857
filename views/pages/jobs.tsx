import cronstrue from "cronstrue";
import type { JobStatus } from "../../src/app/jobs";
import { CsrfField, Field, type FieldErrors, type FormValues } from "../components/form";
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

/** What the jobs page shows of backups beside the backup job. */
export interface BackupsView {
  dir: string;
  keep: number;
  encrypted: boolean;
  database: "SQLite" | "PostgreSQL";
  files: { name: string; bytes: number; at: Date }[];
  errors?: FieldErrors;
  values?: FormValues;
  saved?: boolean;
}

function size(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

/** The backups: where they go, how many the job keeps (a form), whether they are encrypted, the newest files. */
export function BackupsSection(props: { backups: BackupsView; csrf?: string }) {
  const b = props.backups;
  return (
    <section aria-labelledby="backups-title" id="backups">
      <h2 id="backups-title">Backups</h2>
      <p class="muted">
        The backup job writes a {b.database} backup into <span class="mono">{b.dir}</span>
        {b.encrypted ? ", encrypted" : ", not encrypted (set a backup passphrase or key file to encrypt them)"}. Restore
        one with <span class="mono">medianest restore FILE</span> while MediaNest is stopped.
      </p>
      {b.saved ? (
        <div class="alert alert-info" role="status">
          Saved.
        </div>
      ) : null}
      <form method="post" action="/admin/backups/keep">
        <CsrfField token={props.csrf} />
        <Field
          label="Scheduled backups to keep"
          name="keep"
          type="number"
          min={1}
          value={b.values?.keep ?? b.keep}
          error={b.errors?.keep}
          hint="Older ones are deleted after each scheduled backup; other files in the folder are left alone."
          required
        />
        <button class="btn" type="submit">
          Save
        </button>
      </form>
      {b.files.length ? (
        <div class="table-wrap">
          <table class="table-stack">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Size</th>
                <th scope="col">Written</th>
              </tr>
            </thead>
            <tbody>
              {b.files.slice(0, 20).map((f) => (
                <tr>
                  <td data-label="File" class="mono">
                    {f.name}
                  </td>
                  <td data-label="Size">{size(f.bytes)}</td>
                  <td data-label="Written">
                    <When at={f.at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">No backups in this folder yet.</p>
      )}
    </section>
  );
}

/** The admin jobs page. */
export function JobsPage(props: { jobs: JobStatus[]; csrf?: string; message?: string; backups?: BackupsView }) {
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Scheduled jobs</h1>
      <p class="muted">
        Work MediaNest does on its own, on a timetable (in the server's time zone). When several MediaNest servers share
        one database, a job marked "on one server at a time" runs on only one of them.
      </p>
      <JobsTable jobs={props.jobs} csrf={props.csrf} message={props.message} />
      {props.backups ? <BackupsSection backups={props.backups} csrf={props.csrf} /> : null}
    </section>
  );
}
