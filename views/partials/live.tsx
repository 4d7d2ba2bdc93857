import { linkLabel } from "../components/format";
import type { LiveNotification } from "../../src/services/events";

/** The unread count inside the bell; empty hides the badge. */
export function BellCount(props: { unread: number }) {
  return <>{props.unread > 0 ? (props.unread > 99 ? "99+" : String(props.unread)) : ""}</>;
}

/** The admins' count of requests waiting for approval (navigation); empty hides the badge. */
export function PendingCount(props: { pending: number }) {
  return <>{props.pending > 0 ? (props.pending > 99 ? "99+" : String(props.pending)) : ""}</>;
}

/** A toast for a new notification. */
export function Toast(props: { n: LiveNotification }) {
  return (
    <div class="toast" role="status" data-dismissable data-autodismiss>
      <div class="grow">
        <strong>{props.n.title}</strong>
        <div class="muted">{props.n.body}</div>
        {props.n.link ? <a href={props.n.link}>{linkLabel(props.n.link)}</a> : null}
      </div>
      <button type="button" class="icon-btn" data-dismiss aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

/** The maintenance notice banner's content. */
export function NoticeBanner(props: { text: string | null }) {
  return props.text ? (
    <div class="banner" role="status">
      {props.text}
    </div>
  ) : (
    <></>
  );
}
