import type { Subscription } from "../../src/store/subscriptions";
import { CsrfField, Empty, Field, type FieldErrors, FormError, type FormValues, Select } from "../components/form";
import { Ago } from "../components/format";
import { QUALITY_LABELS } from "./downloads";

/** One subscription as the list shows it. */
export interface SubscriptionView {
  subscription: Subscription;
  library: string;
}

function SubscriptionAction(props: { id: string; op: string; label: string; csrf?: string; danger?: boolean }) {
  return (
    <form method="post" action="/downloads/subscriptions">
      <CsrfField token={props.csrf} />
      <input type="hidden" name="op" value={props.op} />
      <input type="hidden" name="subscription" value={props.id} />
      <button class={`btn btn-small${props.danger ? " btn-danger" : ""}`} type="submit">
        {props.label}
      </button>
    </form>
  );
}

/** A user's channel and playlist subscriptions: the form to add one, and each with pause, resume and remove. */
export function SubscriptionsPage(props: {
  csrf?: string;
  problem: string | null;
  items: SubscriptionView[];
  libraries: [string, string][];
  intervalMinutes: number;
  values?: FormValues;
  errors?: FieldErrors;
  message?: string | null;
}) {
  const e = props.errors ?? {};
  return (
    <section class="stack" id="subscriptions">
      <p>
        <a href="/downloads">← Downloads</a>
      </p>
      <h1>Subscriptions</h1>
      {props.message ? (
        <div class="alert alert-ok" role="status">
          {props.message}
        </div>
      ) : null}
      {props.problem ? (
        <div class="alert alert-warn">{props.problem}</div>
      ) : (
        <form class="card" method="post" action="/downloads/subscriptions">
          <CsrfField token={props.csrf} />
          <input type="hidden" name="op" value="subscribe" />
          <h2>Subscribe to a channel or a playlist</h2>
          <p class="muted">
            New videos are downloaded as they appear (checked every {props.intervalMinutes} min), within your download
            quotas. What is there now is not downloaded.
          </p>
          <Field
            label="Channel or playlist link"
            name="url"
            value={props.values?.url}
            error={e.url}
            placeholder="https://www.youtube.com/@channel/videos"
            required
          />
          <div class="row">
            <Select
              label="Quality"
              name="quality"
              value={props.values?.quality ?? "best"}
              options={QUALITY_LABELS}
              error={e.quality}
            />
            <Select
              label="Library"
              name="sectionKey"
              value={props.values?.sectionKey ?? props.libraries[0]?.[0]}
              options={props.libraries}
              error={e.sectionKey}
            />
          </div>
          <FormError message={e._form} />
          <button class="btn btn-primary" type="submit">
            Subscribe
          </button>
        </form>
      )}
      <h2>Your subscriptions</h2>
      {props.items.length === 0 ? (
        <Empty title="No subscriptions yet">Subscribe to a channel and its new videos come into your library.</Empty>
      ) : (
        <ul class="dl-list" id="subscription-list">
          {props.items.map(({ subscription: s, library }) => (
            <li class="card" data-status={s.status}>
              <div class="row row-between">
                <div>
                  <strong>{s.title}</strong>{" "}
                  <span class={`pill ${s.status === "active" ? "pill-up" : "pill-pending"}`}>
                    {s.status === "active" ? "Active" : "Paused"}
                  </span>
                  <div class="muted">
                    {[s.channel, library, QUALITY_LABELS.find(([q]) => q === s.quality)?.[1]]
                      .filter(Boolean)
                      .join(" · ")}{" "}
                    · {s.queuedCount} video{s.queuedCount === 1 ? "" : "s"} queued
                    {s.lastCheckedAt ? (
                      <>
                        {" "}
                        · checked <Ago at={s.lastCheckedAt} />
                      </>
                    ) : null}
                  </div>
                  <div class="hint mono">{s.url}</div>
                  {s.lastError ? <div class="alert alert-warn">{s.lastError}</div> : null}
                </div>
                <div class="row">
                  {s.status === "active" ? (
                    <SubscriptionAction id={s.id} op="pause" label="Pause" csrf={props.csrf} />
                  ) : (
                    <SubscriptionAction id={s.id} op="resume" label="Resume" csrf={props.csrf} />
                  )}
                  <SubscriptionAction id={s.id} op="remove" label="Remove" csrf={props.csrf} danger />
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
