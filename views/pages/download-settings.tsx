import type { FolderProblem } from "../../src/services/download-folders";
import type { YtdlpVersion } from "../../src/services/integration-checks";
import { Checkbox, CsrfField, Field, type FieldErrors, FormError, type FormValues } from "../components/form";

/** What the download settings form shows: the saved values as the form's own fields. */
export interface DownloadSettingsValues {
  allowedHosts: string;
  workers: string;
  stallSeconds: string;
  minFreeMiB: string;
  subscriptionCheckMinutes: string;
}

/** The admin's download settings: yt-dlp, the library folders' state, and the form. */
export function DownloadSettingsPage(props: {
  csrf?: string;
  ytdlpPath: string;
  ytdlp: YtdlpVersion;
  ageWarning: string | null;
  folders: { title: string; folder: string }[];
  problems: FolderProblem[];
  values: DownloadSettingsValues;
  errors?: FieldErrors;
  hasCookies: boolean;
  saved?: string | null;
}) {
  const e = props.errors ?? {};
  return (
    <section class="stack" id="download-settings">
      <p>
        <a href="/admin/downloads">← Downloads</a>
      </p>
      <h1>Download settings</h1>
      {props.saved ? (
        <div class="alert alert-ok" role="status">
          {props.saved}
        </div>
      ) : null}
      {Object.keys(e).length ? (
        <div class="alert alert-error" role="alert">
          Nothing was saved: check the highlighted field{Object.keys(e).length > 1 ? "s" : ""}.
        </div>
      ) : null}
      <section class="card" id="dl-ytdlp" aria-labelledby="dl-ytdlp-title">
        <h2 id="dl-ytdlp-title">yt-dlp</h2>
        <dl class="facts">
          <dt>Path</dt>
          <dd class="mono">{props.ytdlpPath}</dd>
          <dt>Version</dt>
          <dd>{props.ytdlp.ok ? <span class="mono">{props.ytdlp.version}</span> : "unknown"}</dd>
        </dl>
        {props.ytdlp.ok ? null : (
          <div class="alert alert-error" role="alert">
            {props.ytdlp.message}. Downloads wait in the queue until it works again.
          </div>
        )}
        {props.ageWarning ? (
          <div class="alert alert-warn" role="note">
            {props.ageWarning}
          </div>
        ) : null}
        <p class="muted">
          The path is set on the <a href="/admin/integrations#ytdlp">integrations page</a>.
        </p>
      </section>
      <section class="card" id="dl-folders" aria-labelledby="dl-folders-title">
        <h2 id="dl-folders-title">Library folders</h2>
        {props.folders.length === 0 ? (
          <p class="muted">
            No library has a download folder: set them on the{" "}
            <a href="/admin/integrations#libraries">integrations page</a>.
          </p>
        ) : (
          <ul>
            {props.folders.map((f) => {
              const problem = props.problems.find((p) => p.folder === f.folder);
              return (
                <li>
                  {f.title}: <span class="mono">{f.folder}</span>{" "}
                  {problem ? (
                    <span class="alert alert-error" role="alert">
                      {problem.reason}
                    </span>
                  ) : (
                    <span class="pill pill-up">writable</span>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <form
        class="card"
        method="post"
        action="/admin/download-settings"
        enctype="multipart/form-data"
        aria-labelledby="dl-form-title"
      >
        <h2 id="dl-form-title">Settings</h2>
        <CsrfField token={props.csrf} />
        <FormError message={e._form} />
        <div class="field">
          <label for="f-allowedHosts">Allowed sites</label>
          <textarea
            id="f-allowedHosts"
            name="allowedHosts"
            rows={5}
            aria-invalid={e.allowedHosts ? "true" : undefined}
            aria-describedby={e.allowedHosts ? "f-allowedHosts-hint f-allowedHosts-error" : "f-allowedHosts-hint"}
          >
            {props.values.allowedHosts}
          </textarea>
          <p class="hint" id="f-allowedHosts-hint">
            One host per line; each allows its subdomains (youtube.com allows www.youtube.com). A host on a private
            address may be downloaded from only when it is named here exactly.
          </p>
          {e.allowedHosts ? (
            <p class="field-error" id="f-allowedHosts-error">
              {e.allowedHosts}
            </p>
          ) : null}
        </div>
        <Field
          label="Downloads at once (per server)"
          name="workers"
          type="number"
          value={props.values.workers}
          error={e.workers}
          hint="1 to 16; default 2."
          required
        />
        <Field
          label="Fail a download after this many seconds without progress"
          name="stallSeconds"
          type="number"
          value={props.values.stallSeconds}
          error={e.stallSeconds}
          hint="5 to 86400; default 120."
          required
        />
        <Field
          label="Keep at least this much free under a library folder (MiB)"
          name="minFreeMiB"
          type="number"
          value={props.values.minFreeMiB}
          error={e.minFreeMiB}
          hint="New downloads are refused, and the queue pauses, below it; default 1024."
          required
        />
        <Field
          label="Check each subscription every (minutes)"
          name="subscriptionCheckMinutes"
          type="number"
          value={props.values.subscriptionCheckMinutes}
          error={e.subscriptionCheckMinutes}
          hint="5 to 10080; default 60."
          required
        />
        <div class="field">
          <label for="f-cookies">Cookies file (optional)</label>
          <input
            id="f-cookies"
            name="cookies"
            type="file"
            accept=".txt,text/plain"
            aria-invalid={e.cookies ? "true" : undefined}
            aria-describedby="f-cookies-hint"
          />
          <p class="hint" id="f-cookies-hint">
            {props.hasCookies ? "A cookies file is saved (hidden). Choose a file to replace it. " : ""}For sites that
            ask for a sign-in: a cookies.txt in Netscape format, exported from a browser. It is stored encrypted and
            never shown again.
          </p>
          {e.cookies ? (
            <p class="field-error" id="f-cookies-error">
              {e.cookies}
            </p>
          ) : null}
        </div>
        {props.hasCookies ? <Checkbox label="Remove the saved cookies file" name="removeCookies" /> : null}
        <button class="btn btn-primary" type="submit">
          Save
        </button>
      </form>
    </section>
  );
}

/** Echoed form values where a form was refused; the page's own values otherwise. */
export function settingsValues(values: FormValues | undefined, saved: DownloadSettingsValues): DownloadSettingsValues {
  if (!values) return saved;
  return {
    allowedHosts: values.allowedHosts ?? saved.allowedHosts,
    workers: values.workers ?? saved.workers,
    stallSeconds: values.stallSeconds ?? saved.stallSeconds,
    minFreeMiB: values.minFreeMiB ?? saved.minFreeMiB,
    subscriptionCheckMinutes: values.subscriptionCheckMinutes ?? saved.subscriptionCheckMinutes,
  };
}
