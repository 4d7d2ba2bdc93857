// Poster cards, availability badges and the "load more" element shared by discover, search and the dashboard.
import { raw } from "hono/html";
import type { Badge as BadgeView } from "../../src/services/availability";
import { esc } from "./escape";

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

/** An availability or request badge's markup. */
export function badgeHtml(b: BadgeView, large = false): string {
  return (
    `<span class="media-badge media-badge-${esc(b.kind)}${large ? " media-badge-large" : ""}" data-badge="${esc(b.kind)}">` +
    `${esc(b.label)}${b.by ? `<span class="media-badge-by"> · ${esc(b.by)}</span>` : ""}</span>`
  );
}

/** An availability or request badge. */
export function Badge(props: { badge: BadgeView; large?: boolean }) {
  return raw(badgeHtml(props.badge, props.large));
}

/**
 * One poster card, linking to the title page. Built as a string, not JSX: a page of search results or a discover row
 * is 20 of them, and hono/jsx rendering them was 40 % of a cached search (docs/performance.md, "Measured decisions");
 * the markup is the one the JSX wrote.
 */
export function posterCardHtml(c: CardView): string {
  const poster = c.posterUrl
    ? `<img src="${esc(c.posterUrl)}" alt="" width="185" height="278" loading="lazy" decoding="async"/>`
    : `<span class="media-card-blank" aria-hidden="true">${esc(c.title.slice(0, 1))}</span>`;
  return (
    `<li class="media-card"><a href="${esc(c.href)}" class="media-card-link"><span class="media-card-poster">${poster}` +
    `<span class="media-card-type">${c.typeLabel}</span>${c.badge ? badgeHtml(c.badge) : ""}</span>` +
    `<span class="media-card-title">${esc(c.title)}</span><span class="hint media-card-year">${c.year ?? "—"}</span></a></li>`
  );
}

/** Poster cards, as one piece of markup. */
export function PosterCards(props: { cards: CardView[] }) {
  return raw(props.cards.map(posterCardHtml).join(""));
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
