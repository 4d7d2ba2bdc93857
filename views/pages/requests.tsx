import { CsrfField } from "../components/form";

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

/** The person's own requests, newest first, with their live state and a cancel button while pending. */
export function MyRequestsPage(props: { rows: RequestRowView[]; csrf: string; flash?: string | undefined }) {
  return (
    <section
      id="my-requests"
      aria-labelledby="requests-title"
      hx-get="/requests"
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
      {props.rows.length === 0 ? (
        <p class="empty">
          <strong>You have not requested anything yet.</strong>
          Find a movie or show in Discover or Search and request it; its state shows here.
        </p>
      ) : (
        <ul class="request-list">
          {props.rows.map((r) => (
            <li id={`r-${r.id}`} data-state={r.state}>
              <div>
                <a href={r.href}>
                  <strong>{r.title}</strong>
                </a>
                <div class="hint">
                  {r.detail} · asked {r.createdAt}
                </div>
                {r.declineReason ? <div class="hint">Reason: {r.declineReason}</div> : null}
              </div>
              <span class={`media-badge media-badge-${r.state}`}>{r.stateLabel}</span>
              {r.watchUrl ? (
                <a class="btn btn-small btn-plex" href={r.watchUrl} rel="noopener noreferrer" target="_blank">
                  Watch in Plex
                </a>
              ) : null}
              {r.canCancel ? (
                <form method="post" action={`/requests/${r.id}/cancel`}>
                  <CsrfField token={props.csrf} />
                  <button class="btn btn-small btn-danger" type="submit">
                    Cancel
                  </button>
                </form>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
