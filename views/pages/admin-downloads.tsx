import type { DownloadStatus } from "../../src/store/downloads";
import { CsrfField, Empty, Pager } from "../components/form";
import { Ago } from "../components/format";
import { DownloadCards, type DownloadView } from "./downloads";

/** The admins' downloads page: waiting approvals, the queue's health, storage per user, every recent download. */
export function AdminDownloadsPage(props: {
  csrf?: string;
  waiting: DownloadView[];
  recent: DownloadView[];
  /** The page of "every download" shown (from 1), of total downloads. */
  page: number;
  total: number;
  pageSize: number;
  health: { counts: Record<DownloadStatus, number>; oldestQueuedAt: Date | null; expiredLeases: number };
  pause: string | null;
  storage: { user: string; bytes: string }[];
  message: { ok: boolean; text: string } | null;
}) {
  const h = props.health;
  return (
    <section class="stack" id="admin-downloads">
      <div class="page-head">
        <h1>Downloads</h1>
        <a class="btn btn-small" href="/admin/download-settings">
          Settings
        </a>
      </div>
      {props.message ? (
        <div class={`alert ${props.message.ok ? "alert-ok" : "alert-error"}`} role="status">
          {props.message.text}
        </div>
      ) : null}
      {props.pause ? <div class="alert alert-warn">The queue is paused: {props.pause}</div> : null}
      <div class="grid">
        <div class="card">
          <h2>Queue</h2>
          <dl class="facts">
            <dt>Downloading now</dt>
            <dd>{h.counts.downloading + h.counts.processing}</dd>
            <dt>Waiting</dt>
            <dd>{h.counts.queued}</dd>
            <dt>Oldest waiting</dt>
            <dd>{h.oldestQueuedAt ? <Ago at={h.oldestQueuedAt} /> : "none"}</dd>
            <dt>Waiting for approval</dt>
            <dd>{h.counts.awaiting_approval}</dd>
            <dt>Failed</dt>
            <dd>{h.counts.failed}</dd>
            <dt>Leases run out (a worker died)</dt>
            <dd>{h.expiredLeases}</dd>
          </dl>
        </div>
        <div class="card">
          <h2>Storage per user</h2>
          {props.storage.length === 0 ? (
            <p class="muted">No downloaded files yet.</p>
          ) : (
            <dl class="facts">
              {props.storage.map((s) => (
                <>
                  <dt>@{s.user}</dt>
                  <dd>{s.bytes}</dd>
                </>
              ))}
            </dl>
          )}
        </div>
      </div>
      <h2>Waiting for approval</h2>
      {h.counts.awaiting_approval > props.waiting.length ? (
        <p class="muted">
          The newest {props.waiting.length} of {h.counts.awaiting_approval}; the next ones show as these are decided.
        </p>
      ) : null}
      {props.waiting.length === 0 ? (
        <Empty title="Nothing waits for approval">Downloads of people without automatic approval appear here.</Empty>
      ) : (
        <ul class="dl-list">
          {props.waiting.map((d) => (
            <li class="card">
              <div class="row row-between">
                <div>
                  <strong>{d.summary.download.title}</strong>
                  <div class="muted">
                    @{d.summary.user.username} · {d.summary.download.itemCount} video
                    {d.summary.download.itemCount === 1 ? "" : "s"} · {d.library} ·{" "}
                    <Ago at={d.summary.download.createdAt} />
                  </div>
                  <div class="hint mono">{d.summary.download.url}</div>
                </div>
                <div class="row">
                  <form method="post" action={`/admin/downloads/${d.summary.download.id}/approve`}>
                    <CsrfField token={props.csrf} />
                    <button class="btn btn-primary btn-small" type="submit">
                      Approve
                    </button>
                  </form>
                  <form method="post" action={`/admin/downloads/${d.summary.download.id}/decline`} class="row">
                    <CsrfField token={props.csrf} />
                    <input
                      name="reason"
                      placeholder="Reason (optional)"
                      aria-label="Reason for declining"
                      maxlength={300}
                    />
                    <button class="btn btn-danger btn-small" type="submit">
                      Decline
                    </button>
                  </form>
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
      <h2>Every download</h2>
      {props.recent.length === 0 ? (
        <Empty title="No downloads yet" />
      ) : (
        <ul class="dl-list">
          <DownloadCards items={props.recent} csrf={props.csrf} admin />
        </ul>
      )}
      {props.total > props.pageSize ? (
        <Pager
          total={props.total}
          noun={["download", "downloads"]}
          page={props.page}
          pageSize={props.pageSize}
          link={(p) => `/admin/downloads?page=${p}`}
        />
      ) : null}
    </section>
  );
}
