import type { ConnectionReport, YtdlpVersion } from "../../src/services/integration-checks";
import type { IntegrationsView } from "../../src/services/integration-settings";
import type { FieldErrors, FormValues } from "../components/form";
import { Checkbox, CsrfField, Field, FormError } from "../components/form";

/** The services that have a "Test connection" button. */
export type TestableService = "plex" | "seerr" | "kuma" | "ytdlp";

/** The forms of the integrations page. */
export type IntegrationForm = TestableService | "libraries";

export interface IntegrationsPageProps {
  view: IntegrationsView;
  csrf?: string;
  saved?: string;
  /** False when the save went through but its connection test failed: the notice is a warning then. */
  savedOk?: boolean;
  /** The one form being re-rendered with the admin's input and its errors (secrets are never echoed back). */
  form?: { name: IntegrationForm; errors: FieldErrors; values: FormValues };
  /** A connection test shown inline (browsers without JavaScript get the whole page back). */
  report?: { service: TestableService; report: ConnectionReport };
  ytdlp: YtdlpVersion;
  /** Warnings about mapped library folders, by section key. */
  folderWarnings: Record<string, string | null>;
  /** Seerr's webhook agent setup and the import switch. */
  seerrExtras?: SeerrExtras;
}

/** What the Seerr card shows beyond the connection: the webhook setup hint and importing Plex users. */
export interface SeerrExtras {
  webhookUrl: string;
  /** The whole header just after it was made, else its start and an ellipsis; null before the first secret. */
  authHeader: string | null;
  authHeaderNew: boolean;
  template: string;
  lastDelivery: { type: string; at: string } | null;
  importPlexUsers: boolean;
}

function SeerrWebhookHint(props: { extras: SeerrExtras; csrf?: string | undefined }) {
  const x = props.extras;
  return (
    <details class="stack" id="seerr-webhook">
      <summary>Status updates from Seerr (webhook)</summary>
      <p class="muted">
        So requests follow Seerr at once, in Seerr open Settings → Notifications → Webhook, enable it for the request
        events, and enter:
      </p>
      <dl class="facts">
        <dt>Webhook URL</dt>
        <dd class="mono">{x.webhookUrl}</dd>
        <dt>Authorization header</dt>
        <dd class="mono">{x.authHeader ?? "none yet: make a secret below"}</dd>
      </dl>
      {x.authHeaderNew ? (
        <div class="alert alert-warn" role="status">
          Copy this Authorization header into Seerr now: it is not shown again. Lost it? Make a new secret.
        </div>
      ) : null}
      <p class="muted">
        Seerr's default JSON payload works as it is. If it was changed, paste this one (the keys in braces make Seerr
        send null when a part does not apply):
      </p>
      <pre class="mono">{x.template}</pre>
      <p class="muted">
        {x.lastDelivery
          ? `Last delivery from Seerr: ${x.lastDelivery.type}, ${x.lastDelivery.at}.`
          : "Nothing received from Seerr yet: its Test button sends a test notification."}{" "}
        A sync every few minutes catches what a missed delivery would leave behind.
      </p>
      <form method="post" action="/admin/integrations/seerr/webhook-secret">
        <CsrfField token={props.csrf} />
        <button class="btn btn-small" type="submit">
          {x.authHeader ? "Make a new secret" : "Make the secret"}
        </button>
        <span class="hint"> It is shown once; Seerr must then be given the new Authorization header.</span>
      </form>
    </details>
  );
}

function SeerrImportSwitch(props: { extras: SeerrExtras; csrf?: string | undefined }) {
  return (
    <form method="post" action="/admin/integrations/seerr/import" class="stack" id="seerr-import">
      <CsrfField token={props.csrf} />
      <Checkbox
        label="Import Plex users into Seerr at their first request (when Seerr does not know them yet)"
        name="importPlexUsers"
        value="1"
        checked={props.extras.importPlexUsers}
      />
      <div>
        <button class="btn btn-small" type="submit">
          Save
        </button>
      </div>
    </form>
  );
}

const SAVED_SECRET = "A secret is saved (hidden). Leave empty to keep it.";

/** Show what a connection test found, or exactly what failed. */
export function ConnectionResult(props: { report: ConnectionReport }) {
  const r = props.report;
  if (!r.ok) {
    return (
      <div class="alert alert-error" role="alert">
        {r.message}
      </div>
    );
  }
  return (
    <div class="alert alert-ok" role="status">
      <strong>{r.title}</strong>
      <ul>
        {r.facts.map(([label, value]) => (
          <li>
            {label}: <span class="mono">{value}</span>
          </li>
        ))}
      </ul>
      {r.warnings.map((w) => (
        <p class="field-error">{w}</p>
      ))}
    </div>
  );
}

function TestButton(props: { service: TestableService }) {
  const path = `/admin/integrations/${props.service}/test`;
  return (
    <button
      class="btn"
      type="submit"
      formaction={path}
      hx-post={path}
      hx-target={`#${props.service}-test`}
      hx-swap="innerHTML"
    >
      Test connection <span class="htmx-indicator muted">…</span>
    </button>
  );
}

function TestSlot(props: IntegrationsPageProps & { service: TestableService }) {
  const report = props.report?.service === props.service ? props.report.report : undefined;
  return (
    <div id={`${props.service}-test`} aria-live="polite">
      {report ? <ConnectionResult report={report} /> : null}
    </div>
  );
}

function RemoveButton(props: { service: "seerr" | "kuma"; label: string; csrf?: string }) {
  const path = `/admin/integrations/${props.service}/remove`;
  return (
    <form
      method="post"
      action={path}
      hx-post={path}
      hx-confirm={`Remove ${props.label}? Its URL and API key are forgotten.`}
    >
      <CsrfField token={props.csrf} />
      <button class="btn btn-danger" type="submit">
        Remove
      </button>
    </form>
  );
}

/** Pick the admin's input when this form is being re-rendered, the stored value otherwise. */
function valueOf(
  props: IntegrationsPageProps,
  form: IntegrationForm,
  field: string,
  stored: string | null | undefined,
): string {
  return props.form?.name === form ? (props.form.values[field] ?? "") : (stored ?? "");
}

function errorOf(props: IntegrationsPageProps, form: IntegrationForm, field: string): string | undefined {
  return props.form?.name === form ? props.form.errors[field] : undefined;
}

function PlexCard(props: IntegrationsPageProps) {
  const p = props.view.plex;
  return (
    <section class="card" id="plex" aria-labelledby="plex-title">
      <h2 id="plex-title">Plex server</h2>
      <p class="muted">
        The server your household watches. Its owner token reads libraries, sessions and rescans folders.
      </p>
      <form method="post" action="/admin/integrations/plex">
        <CsrfField token={props.csrf} />
        <FormError message={errorOf(props, "plex", "_form")} />
        <Field
          label="Server URL"
          name="plexUrl"
          type="url"
          value={valueOf(props, "plex", "plexUrl", p?.url)}
          error={errorOf(props, "plex", "plexUrl")}
          placeholder="http://192.168.1.10:32400"
          required
        />
        <Field
          label="Owner token"
          name="plexToken"
          type="password"
          error={errorOf(props, "plex", "plexToken")}
          hint={
            p?.hasToken
              ? `${SAVED_SECRET} It was saved when the owner signed in at setup.`
              : "The X-Plex-Token of the server owner. Stored encrypted."
          }
          autocomplete="off"
        />
        <p>
          Machine identifier:{" "}
          <span class="mono">{p?.machineIdentifier ?? "not read yet (save to read it from /identity)"}</span>
          {p?.name ? (
            <>
              {" "}
              · Name: <strong>{p.name}</strong>
            </>
          ) : null}
        </p>
        <div class="row">
          <button class="btn btn-primary" type="submit">
            Save
          </button>
          <TestButton service="plex" />
        </div>
      </form>
      <TestSlot {...props} service="plex" />
      <h3>Library sections</h3>
      {props.view.libraries.length === 0 ? (
        <p class="muted">None known yet: save the Plex server to read its library sections.</p>
      ) : (
        <ul>
          {props.view.libraries.map((l) => (
            <li>
              {l.title}{" "}
              <span class="muted">
                ({l.type}, section {l.sectionKey})
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SeerrCard(props: IntegrationsPageProps) {
  const s = props.view.seerr;
  return (
    <section class="card" id="seerr" aria-labelledby="seerr-title">
      <h2 id="seerr-title">Seerr / Overseerr / Jellyseerr</h2>
      <p class="muted">Requests for movies and shows go here. Find the API key in Seerr under Settings → General.</p>
      <form method="post" action="/admin/integrations/seerr">
        <CsrfField token={props.csrf} />
        <Field
          label="Seerr URL"
          name="seerrUrl"
          type="url"
          value={valueOf(props, "seerr", "seerrUrl", s?.url)}
          error={errorOf(props, "seerr", "seerrUrl")}
          placeholder="http://192.168.1.10:5055"
          required
        />
        <Field
          label="API key"
          name="seerrApiKey"
          type="password"
          error={errorOf(props, "seerr", "seerrApiKey")}
          hint={s?.hasApiKey ? SAVED_SECRET : "Stored encrypted."}
          autocomplete="off"
        />
        <div class="row">
          <button class="btn btn-primary" type="submit">
            Save
          </button>
          <TestButton service="seerr" />
        </div>
      </form>
      <TestSlot {...props} service="seerr" />
      {s && props.seerrExtras ? <SeerrImportSwitch extras={props.seerrExtras} csrf={props.csrf} /> : null}
      {s && props.seerrExtras ? <SeerrWebhookHint extras={props.seerrExtras} csrf={props.csrf} /> : null}
      {s ? (
        <RemoveButton service="seerr" label="Seerr" csrf={props.csrf} />
      ) : (
        <p class="muted">Not configured: requests are off until it is.</p>
      )}
    </section>
  );
}

function KumaCard(props: IntegrationsPageProps) {
  const k = props.view.kuma;
  return (
    <section class="card" id="kuma" aria-labelledby="kuma-title">
      <h2 id="kuma-title">Uptime Kuma</h2>
      <p class="muted">The status page shows the monitors of one public Kuma status page.</p>
      <form method="post" action="/admin/integrations/kuma">
        <CsrfField token={props.csrf} />
        <Field
          label="Uptime Kuma URL"
          name="kumaUrl"
          type="url"
          value={valueOf(props, "kuma", "kumaUrl", k?.url)}
          error={errorOf(props, "kuma", "kumaUrl")}
          placeholder="http://192.168.1.10:3001"
          required
        />
        <Field
          label="Status page slug"
          name="kumaSlug"
          value={valueOf(props, "kuma", "kumaSlug", k?.slug)}
          error={errorOf(props, "kuma", "kumaSlug")}
          placeholder="home"
          hint="The last part of the status page's address: /status/<slug>."
          required
        />
        <Field
          label="API key (optional)"
          name="kumaApiKey"
          type="password"
          error={errorOf(props, "kuma", "kumaApiKey")}
          hint={k?.hasApiKey ? SAVED_SECRET : "Only needed to read /metrics. Stored encrypted."}
          autocomplete="off"
        />
        {k?.hasApiKey ? <Checkbox label="Forget the saved API key" name="kumaClearApiKey" /> : null}
        <div class="row">
          <button class="btn btn-primary" type="submit">
            Save
          </button>
          <TestButton service="kuma" />
        </div>
      </form>
      <TestSlot {...props} service="kuma" />
      {k ? (
        <RemoveButton service="kuma" label="Uptime Kuma" csrf={props.csrf} />
      ) : (
        <p class="muted">Not configured: the status page shows no monitors.</p>
      )}
    </section>
  );
}

function YtdlpCard(props: IntegrationsPageProps) {
  const v = props.ytdlp;
  return (
    <section class="card" id="ytdlp" aria-labelledby="ytdlp-title">
      <h2 id="ytdlp-title">yt-dlp</h2>
      <p class="muted">Downloads run this program. Keep it current: sites change often.</p>
      {v.ok ? (
        <p>
          Version <strong class="mono">{v.version}</strong> <span class="muted">({v.path})</span>
        </p>
      ) : (
        <div class="alert alert-warn">{v.message}</div>
      )}
      <form method="post" action="/admin/integrations/ytdlp">
        <CsrfField token={props.csrf} />
        <Field
          label="Binary path"
          name="ytdlpPath"
          value={valueOf(props, "ytdlp", "ytdlpPath", props.view.ytdlpPath)}
          error={errorOf(props, "ytdlp", "ytdlpPath")}
          placeholder="/usr/local/bin/yt-dlp"
          hint="An absolute path, or a program name found on the PATH."
          required
        />
        <div class="row">
          <button class="btn btn-primary" type="submit">
            Save
          </button>
          <TestButton service="ytdlp" />
        </div>
      </form>
      <TestSlot {...props} service="ytdlp" />
    </section>
  );
}

function LibrariesCard(props: IntegrationsPageProps) {
  const libs = props.view.libraries;
  return (
    <section class="card" id="libraries" aria-labelledby="libraries-title">
      <h2 id="libraries-title">Download folders</h2>
      <p class="muted">
        Where downloads for each Plex library go, as MediaNest sees the disk. Leave a library empty to offer no
        downloads into it.
      </p>
      {libs.length === 0 ? (
        <p class="muted">Save the Plex server first: its library sections appear here.</p>
      ) : (
        <form method="post" action="/admin/integrations/libraries">
          <CsrfField token={props.csrf} />
          {libs.map((l) => {
            const name = `folder-${l.sectionKey}`;
            const warning = props.form?.name === "libraries" ? undefined : props.folderWarnings[l.sectionKey];
            return (
              <>
                <Field
                  label={`${l.title} (${l.type})`}
                  name={name}
                  value={valueOf(props, "libraries", name, l.folder)}
                  error={errorOf(props, "libraries", name)}
                  placeholder={`/data/media/${l.type === "show" ? "tv" : l.type === "movie" ? "movies" : l.type}`}
                />
                {warning ? (
                  <p class="alert alert-warn" role="note">
                    {warning}
                  </p>
                ) : null}
              </>
            );
          })}
          <button class="btn btn-primary" type="submit">
            Save folders
          </button>
        </form>
      )}
    </section>
  );
}

/** The integrations page: one card and form per service, each with a connection test. */
export function IntegrationsPage(props: IntegrationsPageProps) {
  return (
    <section aria-labelledby="integrations-title">
      <p>
        <a href="/admin">← Administration</a>
      </p>
      <h1 id="integrations-title">Integrations</h1>
      {props.saved ? (
        <div class={props.savedOk === false ? "alert alert-warn" : "alert alert-ok"} role="status">
          {props.saved}
        </div>
      ) : null}
      {props.form && Object.keys(props.form.errors).length > 0 ? (
        <div class="alert alert-error" role="alert">
          Nothing was saved: check the highlighted field{Object.keys(props.form.errors).length > 1 ? "s" : ""}.
        </div>
      ) : null}
      <PlexCard {...props} />
      <SeerrCard {...props} />
      <KumaCard {...props} />
      <YtdlpCard {...props} />
      <LibrariesCard {...props} />
    </section>
  );
}
