import { raw } from "hono/html";
import { esc } from "../components/escape";
import { formatDate, linkLabel } from "../components/format";
import type { Notification } from "../../src/store/notifications";
import { CsrfField, Empty, Pager } from "../components/form";

/**
 * The notifications of a page as strings, not JSX: rendering their twenty-odd elements each through hono/jsx was
 * most of the page's time (docs/performance.md, "Measured decisions"). The markup is the one the JSX wrote.
 */
export function notificationItems(items: Notification[], csrf: string | undefined): string {
  const csrfField = csrf ? `<input type="hidden" name="_csrf" value="${esc(csrf)}"/>` : "";
  const form = (action: string, button: string) =>
    `<form method="post" action="${action}" hx-post="${action}" hx-target="#notification-list" hx-select="#notification-list" hx-swap="outerHTML">${csrfField}${button}</form>`;
  let out = "";
  for (const n of items) {
    const id = esc(n.id);
    const title = esc(n.title);
    const at = formatDate(n.createdAt);
    out +=
      (n.readAt ? '<li class="card notice-read">' : '<li class="card notice-unread" data-unread="true">') +
      `<div class="row row-between"><div class="grow min-200"><strong>${title}</strong> ` +
      (n.readAt ? "" : '<span class="pill pill-pending">new</span>') +
      `<div>${esc(n.body)}</div><div class="hint">` +
      `<time datetime="${n.createdAt.toISOString()}" title="${at}" data-local="text">${at}</time>` +
      (n.link ? ` · <a href="${esc(n.link)}">${linkLabel(n.link)}</a>` : "") +
      '</div></div><div class="row">' +
      (n.readAt
        ? ""
        : form(`/notifications/${id}/read`, '<button class="btn btn-small" type="submit">Mark read</button>')) +
      form(
        `/notifications/${id}/delete`,
        `<button class="btn btn-small btn-danger" type="submit" aria-label="Delete “${title}”">Delete</button>`,
      ) +
      "</div></div></li>";
  }
  return out;
}

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
        <ul class="stack plain-list">{raw(notificationItems(props.items, props.csrf))}</ul>
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
