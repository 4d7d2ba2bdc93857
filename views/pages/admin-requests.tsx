import { CsrfField, Empty, Pager } from "../components/form";

/** A request row as the admins' list shows it. */
export interface AdminRequestRowView {
  id: string;
  title: string;
  href: string;
  detail: string;
  requester: string;
  stateLabel: string;
  state: string;
  declineReason: string | null;
  createdAt: string;
  pending: boolean;
}

export interface AdminRequestsFilter {
  status: string;
  user: string;
}

/** The admins' requests page: every request, filtered by state and by person; approve or decline one or several. */
export function AdminRequestsPage(props: {
  rows: AdminRequestRowView[];
  total: number;
  page: number;
  pageSize: number;
  filter: AdminRequestsFilter;
  statuses: [string, string][];
  users: { id: string; displayName: string }[];
  pending: number;
  csrf?: string;
  message?: { ok: boolean; text: string } | null;
  reasonMax: number;
}) {
  const f = props.filter;
  const link = (page: number) => {
    const q = new URLSearchParams();
    if (f.status) q.set("status", f.status);
    if (f.user) q.set("user", f.user);
    if (page > 1) q.set("page", String(page));
    const s = q.toString();
    return `/admin/requests${s ? `?${s}` : ""}`;
  };
  const anyPending = props.rows.some((r) => r.pending);
  return (
    <section id="admin-requests" class="stack" aria-labelledby="admin-requests-title">
      <div class="page-head">
        <h1 id="admin-requests-title">Requests</h1>
        <span class="muted">
          {props.pending === 0
            ? "Nothing waits for approval."
            : `${props.pending} ${props.pending === 1 ? "request waits" : "requests wait"} for approval.`}
        </span>
      </div>
      {props.message ? (
        <div class={`alert ${props.message.ok ? "alert-ok" : "alert-error"}`} role="status">
          {props.message.text}
        </div>
      ) : null}
      <form method="get" action="/admin/requests" class="row filters">
        <label>
          State{" "}
          <select name="status">
            <option value="" selected={f.status === ""}>
              Every state
            </option>
            {props.statuses.map(([v, l]) => (
              <option value={v} selected={v === f.status}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Person{" "}
          <select name="user">
            <option value="" selected={f.user === ""}>
              Everyone
            </option>
            {props.users.map((u) => (
              <option value={u.id} selected={u.id === f.user}>
                {u.displayName}
              </option>
            ))}
          </select>
        </label>
        <button class="btn btn-small" type="submit">
          Show
        </button>
      </form>
      {props.rows.length === 0 ? (
        <Empty title={f.status || f.user ? "No request matches" : "No requests yet"}>
          {f.status || f.user
            ? "Choose another state or person."
            : "What people request through MediaNest or in Seerr shows here."}
        </Empty>
      ) : (
        <form method="post" action="/admin/requests" id="decide-requests">
          <CsrfField token={props.csrf} />
          <input type="hidden" name="back" value={link(props.page)} />
          <div class="table-wrap">
            <table class="table-stack">
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Choose</span>
                  </th>
                  <th scope="col">Title</th>
                  <th scope="col">Asked by</th>
                  <th scope="col">State</th>
                  <th scope="col">Asked</th>
                  <th scope="col">
                    <span class="visually-hidden">Decide</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.rows.map((r) => (
                  <tr id={`r-${r.id}`} data-state={r.state}>
                    <td>
                      {r.pending ? (
                        <input type="checkbox" name="ids" value={r.id} aria-label={`Choose ${r.title}`} />
                      ) : null}
                    </td>
                    <td>
                      <a href={r.href}>
                        <strong>{r.title}</strong>
                      </a>
                      <div class="hint">{r.detail}</div>
                      {r.declineReason ? <div class="hint">Reason: {r.declineReason}</div> : null}
                    </td>
                    <td>{r.requester}</td>
                    <td>
                      <span class={`media-badge media-badge-${r.state}`}>{r.stateLabel}</span>
                    </td>
                    <td>{r.createdAt}</td>
                    <td>
                      {r.pending ? (
                        <span class="row">
                          <button class="btn btn-primary btn-small" type="submit" name="approve" value={r.id}>
                            Approve
                          </button>
                          <button class="btn btn-danger btn-small" type="submit" name="decline" value={r.id}>
                            Decline
                          </button>
                        </span>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {anyPending ? (
            <div class="row">
              <label>
                Reason for declining (shown to the requester){" "}
                <input name="reason" maxlength={props.reasonMax} placeholder="Already in the library as a box set" />
              </label>
              <button class="btn btn-primary btn-small" type="submit" name="action" value="approve">
                Approve chosen
              </button>
              <button class="btn btn-danger btn-small" type="submit" name="action" value="decline">
                Decline chosen
              </button>
            </div>
          ) : null}
        </form>
      )}
      <Pager
        total={props.total}
        noun={["request", "requests"]}
        page={props.page}
        pageSize={props.pageSize}
        link={link}
      />
    </section>
  );
}
