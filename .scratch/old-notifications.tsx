import { linkLabel } from "../views/components/format";
import type { Notification } from "../src/store/notifications";
import { CsrfField, Empty, Pager } from "../views/components/form";
import { When } from "../views/components/format";

/** The notification list; refreshes itself when the live stream says something changed. */
export function NotificationList(props: {
  items: Notification[];
  total: number;
  page: number;
  pageSize: number;
  csrf?: string;
}) {
  return (
    <div
      id="notification-list"
      hx-get={`/notifications?page=${props.page}`}
      hx-trigger="mn-notifications from:#live"
      hx-select="#notification-list"
      hx-swap="outerHTML"
    >
      {props.items.length === 0 ? (
        <Empty title="You're all caught up">
          When something you asked for is ready, or the owner sends news, it shows up here.
        </Empty>
      ) : (
        <ul class="stack plain-list">
          {props.items.map((n) => (
            <li
              class={n.readAt ? "card notice-read" : "card notice-unread"}
              data-unread={n.readAt ? undefined : "true"}
            >
              <div class="row row-between">
                <div class="grow min-200">
                  <strong>{n.title}</strong> {n.readAt ? null : <span class="pill pill-pending">new</span>}
                  <div>{n.body}</div>
                  <div class="hint">
                    <When at={n.createdAt} />
                    {n.link ? (
                      <>
                        {" · "}
                        <a href={n.link}>{linkLabel(n.link)}</a>
                      </>
                    ) : null}
                  </div>
                </div>
                <div class="row">
                  {n.readAt ? null : (
                    <form
                      method="post"
                      action={`/notifications/${n.id}/read`}
                      hx-post={`/notifications/${n.id}/read`}
                      hx-target="#notification-list"
                      hx-select="#notification-list"
                      hx-swap="outerHTML"
                    >
                      <CsrfField token={props.csrf} />
                      <button class="btn btn-small" type="submit">
                        Mark read
                      </button>
                    </form>
                  )}
                  <form
                    method="post"
                    action={`/notifications/${n.id}/delete`}
                    hx-post={`/notifications/${n.id}/delete`}
                    hx-target="#notification-list"
                    hx-select="#notification-list"
                    hx-swap="outerHTML"
                  >
                    <CsrfField token={props.csrf} />
                    <button class="btn btn-small btn-danger" type="submit" aria-label={`Delete “${n.title}”`}>
                      Delete
                    </button>
                  </form>
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
      <Pager
        total={props.total}
        noun={["notification", "notifications"]}
        page={props.page}
        pageSize={props.pageSize}
        link={(p) => `/notifications?page=${p}`}
      />
    </div>
  );
}

/** The notification center page. */
export function NotificationsPage(props: {
  items: Notification[];
  total: number;
  page: number;
  pageSize: number;
  csrf?: string;
}) {
  return (
    <section aria-labelledby="notifications-title">
      <div class="page-head">
        <h1 id="notifications-title">Notifications</h1>
        <div class="row">
          <a class="btn" href="/account/notifications">
            Where to send them
          </a>
          <form
            method="post"
            action="/notifications/all/read"
            hx-post="/notifications/all/read"
            hx-target="#notification-list"
            hx-select="#notification-list"
            hx-swap="outerHTML"
          >
            <CsrfField token={props.csrf} />
            <button class="btn" type="submit">
              Mark all read
            </button>
          </form>
        </div>
      </div>

      <NotificationList {...props} />
    </section>
  );
}
