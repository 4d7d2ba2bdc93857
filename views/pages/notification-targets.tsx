import type { NotificationEvent } from "../../src/services/notification-events";
import { eventLabel } from "../../src/services/notification-events";
import type { TestSendResult } from "../../src/services/outbound-notifications";
import type { DeliveryOverview, NotificationDelivery, TargetKind } from "../../src/store/notification-targets";
import type { FieldErrors, FormValues } from "../components/form";
import { Checkbox, CsrfField, Empty, Field, FormError, Select } from "../components/form";
import { When } from "../components/format";

/** Each target kind's name in pages. */
export const KIND_LABELS: Record<TargetKind, string> = {
  webhook: "Webhook",
  discord: "Discord",
  ntfy: "ntfy",
  email: "Email",
};

/** What the account page shows of a target: no config, only its masked summary. */
export interface TargetView {
  id: string;
  kind: TargetKind;
  name: string;
  events: string[];
  enabled: boolean;
  /** Label and masked value pairs (describeTargetConfig). */
  summary: [string, string][];
  last?: NotificationDelivery;
}

/** A target's latest delivery (a "Send test" counts): its state, when, and the error if it failed. */
export function DeliveryState(props: { d?: NotificationDelivery }) {
  const d = props.d;
  if (!d) return <span class="muted">Nothing sent yet</span>;
  const test = d.event === "test";
  if (d.status === "sent")
    return (
      <span class="pill pill-up">
        {test ? "Test delivered" : "Delivered"} {d.sentAt ? <When at={d.sentAt} /> : null}
      </span>
    );
  if (d.status === "failed") {
    return (
      <span>
        <span class="pill pill-down">
          {test ? "Test failed" : "Failed"} <When at={d.nextAttemptAt} />
        </span>{" "}
        <span class="field-error">{d.lastError}</span>
      </span>
    );
  }
  if (d.status === "sending") return <span class="pill pill-pending">Sending</span>;
  return (
    <span>
      <span class="pill pill-pending">
        {d.attempts === 0 ? (
          "Queued"
        ) : (
          <>
            Retrying <When at={d.nextAttemptAt} />
          </>
        )}
      </span>{" "}
      {d.lastError ? <span class="field-error">{d.lastError}</span> : null}
    </span>
  );
}

/** The inline outcome of "Send test", swapped in under the button. */
export function TestResult(props: { id: string; result?: TestSendResult }) {
  const r = props.result;
  return (
    <div
      id={`test-result-${props.id}`}
      role="status"
      aria-live="polite"
      class={r ? (r.ok ? "alert alert-ok" : "alert alert-error") : undefined}
    >
      {r?.text}
    </div>
  );
}

function EventChoices(props: { idPrefix: string; events: NotificationEvent[]; chosen: string[]; error?: string }) {
  return (
    <fieldset aria-describedby={props.error ? `${props.idPrefix}-events-error` : undefined}>
      <legend>Send these events</legend>
      {props.events.map((e) => (
        <Checkbox
          label={e.adminOnly ? `${e.label} (administrators)` : e.label}
          name="events"
          value={e.id}
          checked={props.chosen.includes(e.id)}
        />
      ))}
      {props.error ? (
        <div class="field-error" id={`${props.idPrefix}-events-error`}>
          {props.error}
        </div>
      ) : null}
    </fieldset>
  );
}

/** One target: what it is, its last delivery, its events and switches, test and delete. */
export function TargetCard(props: {
  t: TargetView;
  events: NotificationEvent[];
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  saved?: boolean;
  result?: TestSendResult;
}) {
  const t = props.t;
  const base = `/account/notifications/${t.id}`;
  const chosen = props.values ? (props.values.events ?? "").split(",").filter(Boolean) : t.events;
  const enabled = props.values ? props.values.enabled !== undefined : t.enabled;
  return (
    <article class="card" id={`target-${t.id}`} aria-labelledby={`target-${t.id}-name`}>
      <div class="page-head">
        <h2 id={`target-${t.id}-name`}>
          {t.name} <span class="pill">{KIND_LABELS[t.kind]}</span>{" "}
          {t.enabled ? null : <span class="pill pill-maintenance">off</span>}
        </h2>
        <div class="row">
          <form
            method="post"
            action={`${base}/test`}
            hx-post={`${base}/test`}
            hx-target={`#test-result-${t.id}`}
            hx-swap="outerHTML"
          >
            <CsrfField token={props.csrf} />
            <button class="btn btn-small" type="submit">
              Send test
            </button>
          </form>
          <form
            method="post"
            action={`${base}/delete`}
            hx-post={`${base}/delete`}
            hx-target="#targets"
            hx-swap="outerHTML"
            hx-confirm={`Delete “${t.name}”? Nothing more is sent there.`}
          >
            <CsrfField token={props.csrf} />
            <button class="btn btn-small btn-danger" type="submit" aria-label={`Delete “${t.name}”`}>
              Delete
            </button>
          </form>
        </div>
      </div>
      <TestResult id={t.id} result={props.result} />
      <dl class="hint">
        {t.summary.map(([k, v]) => (
          <div>
            <dt class="inline">{k}: </dt>
            <dd class="inline m-0 mono">{v}</dd>
          </div>
        ))}
        <div>
          <dt class="inline">Last delivery: </dt>
          <dd class="inline m-0" id={`last-delivery-${t.id}`}>
            <DeliveryState d={t.last} />
          </dd>
        </div>
      </dl>
      <form method="post" action={base} hx-post={base} hx-target={`#target-${t.id}`} hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        {props.saved ? (
          <div class="alert alert-ok" role="status">
            Saved.
          </div>
        ) : null}
        <FormError message={props.errors?._form} />
        <Field
          id={`name-${t.id}`}
          label="Name"
          name="name"
          value={props.values?.name ?? t.name}
          error={props.errors?.name}
          maxlength={60}
          required
        />
        <EventChoices idPrefix={`target-${t.id}`} events={props.events} chosen={chosen} error={props.errors?.events} />
        <Checkbox label="Send notifications here" name="enabled" value="on" checked={enabled} />
        <button class="btn btn-primary" type="submit">
          Save
        </button>
      </form>
    </article>
  );
}

/** The list of targets, swapped whole after a delete. */
export function TargetList(props: {
  targets: TargetView[];
  events: NotificationEvent[];
  csrf?: string;
  results?: Map<string, TestSendResult>;
  message?: string;
}) {
  return (
    <div id="targets" class="stack">
      {props.message ? (
        <div class="alert alert-ok" role="status">
          {props.message}
        </div>
      ) : null}
      {props.targets.length === 0 ? (
        <Empty title="Notifications stay in MediaNest for now">
          Add a webhook, Discord, ntfy or email below to get them where you are.
        </Empty>
      ) : (
        props.targets.map((t) => (
          <TargetCard t={t} events={props.events} csrf={props.csrf} result={props.results?.get(t.id)} />
        ))
      )}
    </div>
  );
}

/** The page where a user chooses where their notifications also go. */
/**
 * "Notify me about": one switch per kind of notification. A kind switched off makes nothing at all: no entry in the
 * notification center, no toast, nothing sent to any target.
 */
export function NotifySwitches(props: {
  events: NotificationEvent[];
  muted: string[];
  csrf?: string;
  errors?: FieldErrors;
  saved?: boolean;
}) {
  return (
    <form
      class="card"
      id="notify-switches"
      method="post"
      action="/account/notification-switches"
      hx-post="/account/notification-switches"
      hx-target="this"
      hx-swap="outerHTML"
    >
      <CsrfField token={props.csrf} />
      <h2>Notify me about</h2>
      <p class="muted">
        What you switch off here reaches you nowhere: not the bell, not a toast, not any of the places below.
      </p>
      {props.saved ? (
        <div class="alert alert-ok" role="status">
          Saved.
        </div>
      ) : null}
      <FormError message={props.errors?.on} />
      <fieldset>
        <legend>Kinds of notification</legend>
        {props.events.map((e) => (
          <Checkbox label={e.label} name="on" value={e.id} checked={!props.muted.includes(e.id)} />
        ))}
      </fieldset>
      <button class="btn" type="submit">
        Save
      </button>
    </form>
  );
}

export function TargetsPage(props: {
  targets: TargetView[];
  events: NotificationEvent[];
  switches: Parameters<typeof NotifySwitches>[0];
  csrf?: string;
  results?: Map<string, TestSendResult>;
  message?: string;
}) {
  return (
    <section aria-labelledby="targets-title">
      <div class="page-head">
        <h1 id="targets-title">Where your notifications go</h1>
        <a class="btn" href="/notifications">
          Back to notifications
        </a>
      </div>
      <p class="muted">
        Besides the bell, MediaNest can send each notification on to places you choose. Secrets you enter here are
        stored encrypted and never shown again.
      </p>
      <NotifySwitches {...props.switches} />
      <TargetList {...props} />
      <div class="card">
        <h2>Add a place to send them</h2>
        <div class="row">
          {(Object.keys(KIND_LABELS) as TargetKind[]).map((k) => (
            <a class="btn" href={`/account/new-target/${k}`}>
              {KIND_LABELS[k]}
            </a>
          ))}
        </div>
      </div>
    </section>
  );
}

const KIND_HELP: Record<TargetKind, string> = {
  webhook: "MediaNest POSTs JSON {event, title, body, link, user, sentAt} to your URL.",
  discord: "In Discord: Server settings → Integrations → Webhooks → New webhook → Copy webhook URL.",
  ntfy: "Subscribe to the topic in the ntfy app. On a public server anyone who knows the topic can read it: pick one nobody would guess.",
  email: "Sent through your mail provider's SMTP server, one email per notification.",
};

/** The form to add a target of one kind; secrets the user typed are not sent back on errors. */
export function NewTargetPage(props: {
  kind: TargetKind;
  events: NotificationEvent[];
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
}) {
  const v = props.values ?? {};
  const e = props.errors ?? {};
  const chosen = props.values
    ? (v.events ?? "").split(",").filter(Boolean)
    : props.events.filter((x) => !x.adminOnly && x.id !== "test").map((x) => x.id);
  const again = props.errors ? "Enter it again." : undefined;
  return (
    <section aria-labelledby="new-target-title" class="narrow">
      <h1 id="new-target-title">
        Add{" "}
        {props.kind === "email"
          ? "an email"
          : props.kind === "ntfy"
            ? "an ntfy"
            : props.kind === "webhook"
              ? "a webhook"
              : "a Discord"}{" "}
        target
      </h1>
      <p class="muted">{KIND_HELP[props.kind]}</p>
      <form class="card" method="post" action={`/account/new-target/${props.kind}`}>
        <CsrfField token={props.csrf} />
        <FormError message={e._form} />
        <Field
          label="Name"
          name="name"
          value={v.name}
          error={e.name}
          maxlength={60}
          required
          placeholder={props.kind === "email" ? "e.g. my inbox" : "e.g. my phone"}
        />
        {props.kind === "webhook" ? (
          <>
            <Field
              label="URL"
              name="url"
              type="url"
              value={v.url}
              error={e.url}
              required
              placeholder="https://example.com/hooks/medianest"
            />
            <Field
              label="Authorization header (optional)"
              name="authorization"
              type="password"
              autocomplete="new-password"
              error={e.authorization}
              hint={again ?? "Sent as is, e.g. “Bearer abc123”. Stored encrypted."}
            />
          </>
        ) : null}
        {props.kind === "discord" ? (
          <Field
            label="Discord webhook URL"
            name="url"
            type="password"
            autocomplete="off"
            error={e.url}
            required
            hint={
              again ?? "Anyone with this URL can post to your channel: it is stored encrypted and never shown again."
            }
            placeholder="https://discord.com/api/webhooks/…"
          />
        ) : null}
        {props.kind === "ntfy" ? (
          <>
            <Field
              label="Server"
              name="server"
              type="url"
              value={v.server ?? "https://ntfy.sh"}
              error={e.server}
              required
            />
            <Field
              label="Topic"
              name="topic"
              value={v.topic}
              error={e.topic}
              required
              maxlength={64}
              hint="Letters, digits, dashes and underscores."
            />
            <Field
              label="Access token (optional)"
              name="token"
              type="password"
              autocomplete="new-password"
              error={e.token}
              hint={again ?? "For protected topics: tk_… Stored encrypted."}
            />
          </>
        ) : null}
        {props.kind === "email" ? (
          <>
            <Field
              label="SMTP server"
              name="host"
              value={v.host}
              error={e.host}
              required
              placeholder="smtp.example.com"
            />
            <Field label="Port" name="port" type="number" value={v.port ?? "587"} error={e.port} required min={1} />
            <Select
              label="Encryption"
              name="security"
              value={v.security ?? "starttls"}
              error={e.security}
              options={[
                ["starttls", "STARTTLS (usually port 587)"],
                ["tls", "TLS from the start (usually port 465)"],
                ["none", "None: a relay on your own network only"],
              ]}
            />
            <Field label="User name (optional)" name="user" value={v.user} error={e.user} autocomplete="off" />
            <Field
              label="Password (optional)"
              name="password"
              type="password"
              autocomplete="new-password"
              error={e.password}
              hint={again ?? "Stored encrypted."}
            />
            <Field
              label="From"
              name="from"
              type="email"
              value={v.from}
              error={e.from}
              required
              placeholder="medianest@example.com"
            />
            <Field label="To" name="to" type="email" value={v.to} error={e.to} required placeholder="you@example.com" />
          </>
        ) : null}
        <EventChoices idPrefix="new" events={props.events} chosen={chosen} error={e.events} />
        <div class="row">
          <button class="btn btn-primary" type="submit">
            Add
          </button>
          <a class="btn" href="/account/notifications">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

/** The admin deliveries table, swapped in place after "Retry now". */
export function DeliveriesTable(props: {
  rows: DeliveryOverview[];
  counts: Record<NotificationDelivery["status"], number>;
  csrf?: string;
  message?: string;
}) {
  return (
    <div id="deliveries" class="stack">
      {props.message ? (
        <div class="alert alert-info" role="status">
          {props.message}
        </div>
      ) : null}
      <p class="muted">
        {props.counts.failed} failed · {props.counts.pending} waiting · {props.counts.sending} sending ·{" "}
        {props.counts.sent} delivered (kept 30 days)
      </p>
      {props.rows.length === 0 ? (
        <Empty title="Nothing sent yet">
          When people add webhooks, Discord, ntfy or email, their deliveries show up here.
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table-stack">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Target</th>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Next attempt</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map(({ delivery: d, target, user }) => (
                <tr data-status={d.status}>
                  <td data-label="User">
                    <a href={`/admin/users/${user.id}`}>{user.displayName}</a>
                    <div class="hint">@{user.username}</div>
                  </td>
                  <td data-label="Target">
                    {target.name}
                    <div class="hint">
                      {KIND_LABELS[target.kind]}
                      {target.enabled ? "" : " · off"}
                    </div>
                  </td>
                  <td data-label="Event">
                    <span class="mono">{d.event}</span>
                    <div class="hint">
                      <When at={d.createdAt} />
                    </div>
                  </td>
                  <td data-label="State">
                    <span
                      class={`pill ${d.status === "sent" ? "pill-up" : d.status === "failed" ? "pill-down" : "pill-pending"}`}
                    >
                      {d.status}
                    </span>
                  </td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last error">
                    {d.lastError ? <span class="field-error">{d.lastError}</span> : <span class="muted">—</span>}
                  </td>
                  <td data-label="Next attempt">
                    {d.status === "pending" ? (
                      <When at={d.nextAttemptAt} />
                    ) : d.status === "sending" ? (
                      "sending now"
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>
                    {d.status === "failed" || d.status === "pending" ? (
                      <form
                        method="post"
                        action={`/admin/notifications/${d.id}/retry`}
                        hx-post={`/admin/notifications/${d.id}/retry`}
                        hx-target="#deliveries"
                        hx-swap="outerHTML"
                      >
                        <CsrfField token={props.csrf} />
                        <button
                          class="btn btn-small"
                          type="submit"
                          aria-label={`Retry ${eventLabel(d.event)} to ${target.name} now`}
                        >
                          Retry now
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** The admin page of outbound deliveries across users, failures first. */
export function DeliveriesPage(props: {
  rows: DeliveryOverview[];
  counts: Record<NotificationDelivery["status"], number>;
  csrf?: string;
  message?: string;
}) {
  return (
    <section aria-labelledby="deliveries-title">
      <h1 id="deliveries-title">Outbound notifications</h1>
      <p class="muted">
        Deliveries to people's webhooks, Discord, ntfy and email. A failed send is retried after 30 s, 2 min, 10 min, 1
        h and 6 h, then given up; a receiver that refuses the request outright (a 4xx such as 401 or 404) is not
        retried.
      </p>
      <DeliveriesTable {...props} />
    </section>
  );
}
