import { raw } from "hono/html";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { DownloadSummary } from "../../src/store/downloads";
import {
  CsrfField,
  Empty,
  type FieldErrors,
  Field,
  FormError,
  type FormValues,
  Pager,
  Select,
} from "../components/form";
import { formatAgo, formatDate } from "../components/format";
import { DownloadProgressBar, progressId } from "../partials/download-progress";
import { esc } from "../components/escape";

/** A preview as the confirm form shows it. */
export interface PreviewView {
  url: string;
  kind: "video" | "playlist";
  title: string;
  channel: string | null;
  duration: string | null;
  size: string | null;
  thumbnailUrl: string | null;
  entries: { index: number; title: string; duration: string | null }[];
  skipped: { title: string; reason: string }[];
}

/** One download in a list. */
export interface DownloadView {
  summary: DownloadSummary;
  thumbnailUrl: string | null;
  library: string;
  size: string | null;
}

export const QUALITY_LABELS: [string, string][] = [
  ["best", "Best available"],
  ["2160", "2160p (4K)"],
  ["1080", "1080p"],
  ["720", "720p"],
  ["480", "480p"],
  ["audio", "Audio only"],
];

const STATUS_LABELS: Record<string, string> = {
  queued: "Queued",
  awaiting_approval: "Waiting for approval",
  downloading: "Downloading",
  processing: "Processing",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

const STATUS_PILL: Record<string, string> = {
  queued: "pill-pending",
  awaiting_approval: "pill-pending",
  downloading: "pill-maintenance",
  processing: "pill-maintenance",
  completed: "pill-up",
  failed: "pill-down",
  cancelled: "",
};

function Thumb(props: { url: string | null; alt?: string }) {
  return props.url ? (
    <img class="dl-thumb" src={props.url} alt={props.alt ?? ""} loading="lazy" width="160" height="90" />
  ) : (
    <div class="dl-thumb dl-thumb-blank" aria-hidden="true"></div>
  );
}

/** The link field; htmx asks for a preview, a plain browser gets the page with the preview. */
export function DownloadForm(props: { csrf?: string; values?: FormValues; errors?: FieldErrors }) {
  return (
    <form
      class="card"
      method="post"
      action="/downloads"
      hx-post="/downloads"
      hx-target="#dl-compose"
      hx-select="#dl-compose"
      hx-swap="outerHTML"
    >
      <CsrfField token={props.csrf} />
      <input type="hidden" name="step" value="preview" />
      <h2>Download a video or a playlist</h2>
      <Field
        label="Link"
        name="url"
        type="url"
        value={props.values?.url}
        error={props.errors?.url}
        placeholder="https://www.youtube.com/watch?v=…"
        required
        hint="Paste a link; you will see what it is before anything downloads."
      />
      <FormError message={props.errors?._form} />
      <button class="btn btn-primary" type="submit">
        Preview
      </button>
    </form>
  );
}

/** The preview with the choices to make, and the confirm button. */
export function PreviewCard(props: {
  preview: PreviewView;
  csrf?: string;
  libraries: [string, string][];
  values?: FormValues;
  errors?: FieldErrors;
}) {
  const p = props.preview;
  return (
    <form
      class="card dl-preview"
      method="post"
      action="/downloads"
      hx-post="/downloads"
      hx-target="#dl-compose"
      hx-select="#dl-compose"
      hx-swap="outerHTML"
    >
      <CsrfField token={props.csrf} />
      <input type="hidden" name="url" value={p.url} />
      <div class="dl-row">
        <Thumb url={p.thumbnailUrl} alt={`Thumbnail of ${p.title}`} />
        <div class="dl-body">
          <h2 class="dl-title">{p.title}</h2>
          <div class="muted">
            {[
              p.channel,
              p.kind === "playlist"
                ? `Playlist of ${p.entries.length} video${p.entries.length === 1 ? "" : "s"}`
                : null,
              p.duration,
              p.size ? `about ${p.size}` : null,
            ]
              .filter(Boolean)
              .join(" · ")}
          </div>
        </div>
      </div>
      {p.kind === "playlist" ? (
        <details class="dl-entries">
          <summary>The videos, in order</summary>
          <ol>
            {p.entries.map((e) => (
              <li>
                {e.title}
                {e.duration ? <span class="muted"> · {e.duration}</span> : null}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      {p.skipped.length ? (
        <div class="alert alert-warn">Left out: {p.skipped.map((s) => `${s.title} (${s.reason})`).join("; ")}</div>
      ) : null}
      <div class="row">
        <Select
          label="Quality"
          name="quality"
          value={props.values?.quality ?? "best"}
          options={QUALITY_LABELS}
          error={props.errors?.quality}
        />
        <Select
          label="Library"
          name="sectionKey"
          value={props.values?.sectionKey ?? props.libraries[0]?.[0]}
          options={props.libraries}
          error={props.errors?.sectionKey}
        />
      </div>
      <FormError message={props.errors?._form} />
      <div class="row">
        <button class="btn btn-primary" type="submit">
          Download
        </button>
        <a class="btn" href="/downloads">
          Cancel
        </a>
      </div>
    </form>
  );
}

const WEEK_MS = 7 * 86_400_000;

/** `<Ago>` of views/components/format.tsx, as a string. */
function agoHtml(at: Date, now: number): string {
  const iso = at.toISOString();
  const utc = esc(formatDate(at));
  if (now - at.getTime() >= WEEK_MS) return `<time datetime="${iso}" title="${utc}" data-local="text">${utc}</time>`;
  return `<time datetime="${iso}" title="${utc}" data-local="title">${esc(formatAgo(at, now))}</time>`;
}

function actionHtml(id: string, action: string, label: string, csrfField: string, page?: number, confirm?: string) {
  const url = esc(`/downloads/${id}/${action}${page && page > 1 ? `?page=${page}` : ""}`);
  return (
    `<form method="post" action="${url}" hx-post="${url}" hx-target="#download-list" hx-select="#download-list" hx-swap="outerHTML"${confirm ? ` hx-confirm="${esc(confirm)}"` : ""}>` +
    `${csrfField}<button class="btn btn-small${action === "delete-files" ? " btn-danger" : ""}" type="submit">${label}</button></form>`
  );
}

/**
 * One download: thumbnail, title, state, live progress while it runs, and what can be done with it. Built as a
 * string, not JSX (25 or 50 of them a page; the markup is the one the JSX wrote): docs/performance.md, "Measured
 * decisions". The live progress that replaces its bar later is `DownloadProgressBar`.
 */
export function downloadCardHtml(
  view: DownloadView,
  opts: { csrf?: string; admin?: boolean; page?: number; now?: number } = {},
): string {
  const { download: d, counts } = view.summary;
  const running = d.status === "downloading" || d.status === "processing" || d.status === "queued";
  const done = counts.completed;
  const finished = d.status === "completed" || d.status === "failed" || d.status === "cancelled";
  const id = esc(d.id);
  const facts = esc(
    [
      opts.admin ? `@${view.summary.user.username}` : null,
      d.channel,
      d.kind === "playlist" ? `${done} of ${d.itemCount} videos` : null,
      view.library,
      view.size,
    ]
      .filter(Boolean)
      .join(" · "),
  );
  const progress = running
    ? `<div id="${esc(progressId(d.id))}" class="dl-progress" data-percent=""><div class="progress progress-unknown" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-label="Download progress">` +
      `<svg class="progress-fill" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect width="100.0" height="1"></rect></svg></div>` +
      `<div class="dl-facts muted">${d.status === "queued" ? "Waiting for a free worker" : "Starting"}</div></div>`
    : `<div id="${esc(progressId(d.id))}"></div>`;
  let actions = "";
  if (!opts.admin) {
    const csrfField = opts.csrf ? `<input type="hidden" name="_csrf" value="${esc(opts.csrf)}"/>` : "";
    actions = '<div class="row dl-actions">';
    if (!finished) actions += actionHtml(d.id, "cancel", "Cancel", csrfField, opts.page);
    if (counts.failed + counts.cancelled > 0 && finished)
      actions += actionHtml(d.id, "retry", "Retry", csrfField, opts.page);
    if (finished) actions += actionHtml(d.id, "remove", "Remove from list", csrfField, opts.page);
    if (view.size && finished)
      actions += actionHtml(
        d.id,
        "delete-files",
        "Delete file",
        csrfField,
        opts.page,
        "Delete the downloaded files from the library?",
      );
    actions += "</div>";
  }
  return (
    `<li class="card dl-item" data-status="${esc(d.status)}" id="dl-${id}"><div class="dl-row">` +
    (view.thumbnailUrl
      ? `<img class="dl-thumb" src="${esc(view.thumbnailUrl)}" alt="" loading="lazy" width="160" height="90"/>`
      : '<div class="dl-thumb dl-thumb-blank" aria-hidden="true"></div>') +
    `<div class="dl-body"><div class="dl-title"><strong>${esc(d.title)}</strong> <span class="pill ${STATUS_PILL[d.status] ?? ""}">${STATUS_LABELS[d.status] ?? ""}</span></div>` +
    `<div class="muted">${facts} · ${agoHtml(d.createdAt, opts.now ?? Date.now())}</div>` +
    progress +
    (d.status === "failed" && d.error ? `<div class="field-error">${esc(d.error)}</div>` : "") +
    (d.status === "awaiting_approval" ? '<div class="hint">An admin approves downloads before they start.</div>' : "") +
    actions +
    "</div></div></li>"
  );
}

/** Cards of a list, as one piece of markup. */
export function DownloadCards(props: { items: DownloadView[]; csrf?: string; admin?: boolean; page?: number }) {
  const now = Date.now();
  let out = "";
  for (const d of props.items)
    out += downloadCardHtml(d, { csrf: props.csrf, admin: props.admin, page: props.page, now });
  return raw(out);
}

/** The user's downloads, a page at a time; refreshes itself when the live stream says one changed. */
export function DownloadList(props: {
  items: DownloadView[];
  csrf?: string;
  pause: string | null;
  admin?: boolean;
  source?: string;
  page?: number;
  total?: number;
  pageSize?: number;
}) {
  const page = props.page ?? 1;
  const source = props.source ?? `/downloads?part=list${page > 1 ? `&page=${page}` : ""}`;
  return (
    <div id="download-list" hx-get={source} hx-trigger="mn-downloads from:#live" hx-swap="outerHTML">
      {props.pause ? <div class="alert alert-warn">The queue is paused: {props.pause}</div> : null}
      {props.items.length === 0 ? (
        <Empty title="No downloads yet">Paste a link above; what you download appears here with its progress.</Empty>
      ) : (
        <ul class="dl-list">
          <DownloadCards items={props.items} csrf={props.csrf} admin={props.admin} page={page} />
        </ul>
      )}
      {props.total !== undefined && props.pageSize && props.total > props.pageSize ? (
        <Pager
          total={props.total}
          noun={["download", "downloads"]}
          page={page}
          pageSize={props.pageSize}
          link={(p) => `/downloads?page=${p}`}
        />
      ) : null}
    </div>
  );
}

/** The downloads page: the link form (or the preview to confirm) and the user's queue. */
export function DownloadsPage(props: {
  csrf?: string;
  compose: JSX.Element;
  list: Parameters<typeof DownloadList>[0];
  problem: string | null;
  canSubscribe?: boolean;
}) {
  return (
    <section class="stack">
      <div class="page-head">
        <h1>Downloads</h1>
        {props.canSubscribe ? (
          <a class="btn btn-small" href="/downloads/subscriptions">
            Subscriptions
          </a>
        ) : null}
      </div>
      {props.problem ? <div class="alert alert-warn">{props.problem}</div> : null}
      <div id="dl-compose">{props.compose}</div>
      <h2>Your downloads</h2>
      <DownloadList {...props.list} />
    </section>
  );
}

/** The dashboard's "your downloads": the latest few, with live progress bars. */
export function DashboardDownloads(props: { items: DownloadView[] }) {
  if (props.items.length === 0)
    return (
      <Empty title="Nothing downloaded yet">
        <a href="/downloads">Download a video or a playlist</a> into the Plex library.
      </Empty>
    );
  return (
    <ul class="dl-list dl-compact">
      {props.items.map((v) => {
        const d = v.summary.download;
        const running = d.status === "downloading" || d.status === "processing" || d.status === "queued";
        return (
          <li class="dl-row" data-status={d.status}>
            <Thumb url={v.thumbnailUrl} />
            <div class="dl-body">
              <strong class="dl-title">{d.title}</strong>{" "}
              <span class={`pill ${STATUS_PILL[d.status] ?? ""}`}>{STATUS_LABELS[d.status]}</span>
              {running ? (
                <DownloadProgressBar
                  downloadId={d.id}
                  progress={null}
                  label={d.status === "queued" ? "Waiting" : "Starting"}
                />
              ) : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
