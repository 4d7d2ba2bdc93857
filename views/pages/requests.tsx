import { raw } from "hono/html";
import { Empty, Pager } from "../components/form";
import { esc } from "../components/escape";

/** A request row as the list shows it. */
export interface RequestRowView {
  id: string;
  title: string;
  href: string;
  detail: string;
  stateLabel: string;
  state: string;
  declineReason: string | null;
  createdAt: string;
  canCancel: boolean;
  /** The item in Plex (app.plex.tv) once it is there. */
  watchUrl: string | null;
}

/** The person's own requests, newest first a page at a time, with their live state and a cancel button while pending. */
export function MyRequestsPage(props: {
  rows: RequestRowView[];
  total: number;
  page: number;
  pageSize: number;
  csrf: string;
  flash?: string | undefined;
}) {
  const link = (p: number) => (p === 1 ? "/requests" : `/requests?page=${p}`);
  return (
    <section
      id="my-requests"
      aria-labelledby="requests-title"
      hx-get={link(props.page)}
      hx-trigger="mn-requests from:#live"
      hx-select="#my-requests"
      hx-target="this"
      hx-swap="outerHTML"
    >
      <div class="page-head">
        <h1 id="requests-title">Your requests</h1>
        <a href="/discover">Discover something to request</a>
      </div>
      {props.flash ? (
        <p class="alert alert-ok" role="status">
          {props.flash}
        </p>
      ) : null}
      {props.total === 0 ? (
        <p class="empty">
          <strong>You have not requested anything yet.</strong>
          Find a movie or show in Discover or Search and request it; its state shows here.
        </p>
      ) : (
        <>
          {props.rows.length > 0 ? <ul class="request-list">{raw(requestRows(props.rows, props.csrf))}</ul> : null}
          <Pager
            total={props.total}
            noun={["request", "requests"]}
            page={props.page}
            pageSize={props.pageSize}
            link={link}
          />
        </>
      )}
    </section>
  );
}

/**
 * The rows of "your requests" (25 a page) as strings, not JSX: rendering them as elements was a third of
 * the page's CPU time (docs/performance.md, "Measured decisions"). The markup is the one the JSX wrote.
 */
export function requestRows(rows: RequestRowView[], csrf: string): string {
  const csrfField = csrf ? `<input type="hidden" name="_csrf" value="${esc(csrf)}"/>` : "";
  let out = "";
  for (const r of rows) {
    out +=
      `<li id="r-${esc(r.id)}" data-state="${esc(r.state)}"><div><a href="${esc(r.href)}"><strong>${esc(r.title)}</strong></a>` +
      `<div class="hint">${esc(r.detail)} · asked ${esc(r.createdAt)}</div>` +
      (r.declineReason ? `<div class="hint">Reason: ${esc(r.declineReason)}</div>` : "") +
      `</div><span class="media-badge media-badge-${esc(r.state)}">${esc(r.stateLabel)}</span>` +
      (r.watchUrl
        ? `<a class="btn btn-small btn-plex" href="${esc(r.watchUrl)}" rel="noopener noreferrer" target="_blank">Watch in Plex</a>`
        : "") +
      (r.canCancel
        ? `<form method="post" action="/requests/${esc(r.id)}/cancel">${csrfField}<button class="btn btn-small btn-danger" type="submit">Cancel</button></form>`
        : "") +
      "</li>";
  }
  return out;
}

/** A request as the dashboard shows it: a poster card with its state. */
export interface DashboardRequestView extends RequestRowView {
  posterUrl: string | null;
  typeLabel: "Movie" | "Show";
}

/** The dashboard's "your requests": the newest few as poster cards with their state, or what to do first. */
export function DashboardRequests(props: { rows: DashboardRequestView[] }) {
  if (props.rows.length === 0)
    return (
      <Empty title="No requests yet">
        Find a movie or show in <a href="/discover">Discover</a> or <a href="/search">Search</a> and request it.
      </Empty>
    );
  return (
    <>
      <ul class="media-strip dashboard-requests">
        {props.rows.map((r) => (
          <li class="media-card" data-state={r.state}>
            <a href={r.href} class="media-card-link">
              <span class="media-card-poster">
                {r.posterUrl ? (
                  <img src={r.posterUrl} alt="" width="185" height="278" loading="lazy" decoding="async" />
                ) : (
                  <span class="media-card-blank" aria-hidden="true">
                    {r.title.slice(0, 1)}
                  </span>
                )}
                <span class="media-card-type">{r.typeLabel}</span>
                <span class={`media-badge media-badge-${r.state}`}>{r.stateLabel}</span>
              </span>
              <span class="media-card-title">{r.title}</span>
              <span class="hint media-card-year">{r.detail}</span>
            </a>
          </li>
        ))}
      </ul>
      <p>
        <a href="/requests">All your requests</a>
      </p>
    </>
  );
}
