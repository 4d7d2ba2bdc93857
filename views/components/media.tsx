// Poster cards, availability badges and the "load more" element shared by discover, search and the dashboard.
import type { Badge as BadgeView } from "../../src/services/availability";

export type { BadgeView };

/** A poster card with everything already decided: links, signed image URLs, the badge. */
export interface CardView {
  href: string;
  title: string;
  year: number | null;
  typeLabel: "Movie" | "Show";
  posterUrl: string | null;
  badge: BadgeView | null;
}

/** An availability or request badge. */
export function Badge(props: { badge: BadgeView; large?: boolean }) {
  const b = props.badge;
  return (
    <span class={`media-badge media-badge-${b.kind}${props.large ? " media-badge-large" : ""}`} data-badge={b.kind}>
      {b.label}
      {b.by ? <span class="media-badge-by"> · {b.by}</span> : null}
    </span>
  );
}

/** One poster card, linking to the title page. */
export function PosterCard(props: { card: CardView }) {
  const c = props.card;
  return (
    <li class="media-card">
      <a href={c.href} class="media-card-link">
        <span class="media-card-poster">
          {c.posterUrl ? (
            <img src={c.posterUrl} alt="" width="185" height="278" loading="lazy" decoding="async" />
          ) : (
            <span class="media-card-blank" aria-hidden="true">
              {c.title.slice(0, 1)}
            </span>
          )}
          <span class="media-card-type">{c.typeLabel}</span>
          {c.badge ? <Badge badge={c.badge} /> : null}
        </span>
        <span class="media-card-title">{c.title}</span>
        <span class="hint media-card-year">{c.year ?? "—"}</span>
      </a>
    </li>
  );
}

/**
 * The element after the last card: a plain link to the next page (works without JavaScript), which htmx swaps for
 * the next cards when it scrolls into view.
 */
export function LoadMore(props: { href: string; label?: string }) {
  return (
    <li class="media-more">
      <a
        class="btn"
        href={props.href}
        hx-get={props.href}
        hx-trigger="revealed"
        hx-target="closest li"
        hx-swap="outerHTML"
      >
        {props.label ?? "Load more"}
      </a>
    </li>
  );
}
