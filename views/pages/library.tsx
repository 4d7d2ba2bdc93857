// The Plex library pages: the sections a person was given, a section's poster grid, an item with its seasons or
// episodes. Everything arrives decided: links, signed image URLs, labels.
import { LoadMore } from "../components/media";
import { NoLibraryReason } from "../partials/dashboard";

/** A section tile on the library home. */
export interface SectionView {
  href: string;
  title: string;
  typeLabel: string;
}

/** A poster in a library grid. */
export interface LibraryCardView {
  href: string;
  title: string;
  subtitle: string | null;
  posterUrl: string | null;
}

/** Why there is no library to show, or the failure that stopped it. */
export type LibraryBlocker =
  | { kind: "unconfigured"; isAdmin: boolean }
  | { kind: "unlinked" }
  | { kind: "stale" }
  | { kind: "error"; message: string };

/** The ways a section can be ordered, with their labels. */
export const SORT_LABELS = { title: "Title", added: "Date added", year: "Year" } as const;
export type SortKey = keyof typeof SORT_LABELS;

function Failure(props: { message: string }) {
  return (
    <p class="alert alert-error" role="alert">
      {props.message}
    </p>
  );
}

/** Say why the library cannot be shown. */
export function LibraryBlocked(props: { blocker: LibraryBlocker }) {
  const b = props.blocker;
  return (
    <section class="card" aria-labelledby="library-title">
      <h1 id="library-title">Library</h1>
      {b.kind === "unconfigured" ? (
        <p class="muted">
          No Plex server is connected to MediaNest yet, so there is no library to show.{" "}
          {b.isAdmin ? <a href="/admin/integrations">Connect your Plex server</a> : "Ask the owner to connect one."}
        </p>
      ) : b.kind === "error" ? (
        <Failure message={b.message} />
      ) : (
        <NoLibraryReason reason={b.kind} />
      )}
    </section>
  );
}

/** The library home: one tile per section Plex shares with the viewer. */
export function LibraryHome(props: { sections: SectionView[] }) {
  return (
    <section aria-labelledby="library-title">
      <div class="page-head">
        <h1 id="library-title">Library</h1>
      </div>
      {props.sections.length === 0 ? (
        <p class="muted">Plex shares no library with you on this server. Ask the owner to share one.</p>
      ) : (
        <ul class="grid library-sections">
          {props.sections.map((s) => (
            <li>
              <a class="card" href={s.href}>
                <h2>{s.title}</h2>
                <span class="hint">{s.typeLabel}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** One poster card of a library grid. */
export function LibraryCard(props: { card: LibraryCardView }) {
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
        </span>
        <span class="media-card-title">{c.title}</span>
        <span class="hint media-card-year">{c.subtitle ?? "—"}</span>
      </a>
    </li>
  );
}

/** The cards of one page and the element that loads the next (what infinite scrolling appends). */
export function LibraryCards(props: { cards: LibraryCardView[]; nextHref: string | null }) {
  return (
    <>
      {props.cards.map((c) => (
        <LibraryCard card={c} />
      ))}
      {props.nextHref ? <LoadMore href={props.nextHref} /> : null}
    </>
  );
}

/** A section's poster grid with its search box, order and pages. */
export function SectionPage(props: {
  title: string;
  sectionHref: string;
  query: string;
  sort: SortKey;
  sortHref: (sort: SortKey) => string;
  total: number;
  page: number;
  pages: number;
  cards: LibraryCardView[];
  prevHref: string | null;
  nextHref: string | null;
}) {
  return (
    <section aria-labelledby="section-title">
      <div class="page-head">
        <h1 id="section-title">{props.title}</h1>
        <form class="media-search" action={props.sectionHref} method="get" role="search">
          <label for="library-q" class="visually-hidden">
            Search {props.title}
          </label>
          <input
            id="library-q"
            type="search"
            name="q"
            value={props.query}
            maxlength={100}
            placeholder={`Search ${props.title}`}
          />
          <input type="hidden" name="sort" value={props.sort} />
          <button class="btn" type="submit">
            Search
          </button>
        </form>
      </div>
      <p class="row library-sorts">
        <span class="hint">Order by</span>
        {(Object.keys(SORT_LABELS) as SortKey[]).map((k) =>
          k === props.sort ? (
            <strong aria-current="true">{SORT_LABELS[k]}</strong>
          ) : (
            <a href={props.sortHref(k)}>{SORT_LABELS[k]}</a>
          ),
        )}
        <span class="hint">
          {props.total} {props.total === 1 ? "title" : "titles"}
          {props.query ? ` matching “${props.query}”` : ""}
        </span>
      </p>
      {props.cards.length === 0 ? (
        <p class="muted">
          {props.query ? "Nothing in this library matches that search." : "This library has nothing in it yet."}
        </p>
      ) : (
        <ul class="media-grid">
          <LibraryCards cards={props.cards} nextHref={props.nextHref} />
        </ul>
      )}
      {props.pages > 1 ? (
        <nav class="pager" aria-label="Pages">
          {props.prevHref ? <a href={props.prevHref}>Previous page</a> : <span></span>}
          <span class="hint">
            Page {props.page} of {props.pages}
          </span>
        </nav>
      ) : null}
    </section>
  );
}

/** An item page's content. */
export interface ItemView {
  title: string;
  /** The show and season of an episode, the show of a season. */
  context: { title: string; href: string } | null;
  sectionTitle: string;
  sectionHref: string;
  typeLabel: string;
  year: number | null;
  duration: string | null;
  summary: string | null;
  genres: string[];
  posterUrl: string | null;
  backdropUrl: string | null;
  watchUrl: string | null;
  childrenTitle: string;
  children: LibraryCardView[];
}

/** One item: its backdrop, poster and facts, "Watch in Plex", and its seasons or episodes. */
export function ItemPage(props: { item: ItemView }) {
  const i = props.item;
  return (
    <article class="library-item" aria-labelledby="item-title">
      <p class="hint">
        <a href="/library">Library</a> › <a href={i.sectionHref}>{i.sectionTitle}</a>
        {i.context ? (
          <>
            {" › "}
            <a href={i.context.href}>{i.context.title}</a>
          </>
        ) : null}
      </p>
      <section class="media-hero library-hero">
        {i.backdropUrl ? (
          <img class="media-hero-backdrop" src={i.backdropUrl} alt="" width="1280" height="720" />
        ) : null}
        <div class="media-hero-body library-hero-body">
          {i.posterUrl ? (
            <img class="library-poster" src={i.posterUrl} alt="" width="185" height="278" decoding="async" />
          ) : null}
          <div>
            <span class="hint">
              {[i.typeLabel, i.year ? String(i.year) : null, i.duration].filter(Boolean).join(" · ")}
            </span>
            <h1 id="item-title">{i.title}</h1>
            {i.genres.length > 0 ? <p class="hint">{i.genres.join(", ")}</p> : null}
            {i.summary ? <p class="media-hero-overview">{i.summary}</p> : null}
            {i.watchUrl ? (
              <a class="btn btn-primary" href={i.watchUrl} rel="noopener noreferrer" target="_blank">
                Watch in Plex
              </a>
            ) : null}
          </div>
        </div>
      </section>
      {i.children.length > 0 ? (
        <section class="media-row" aria-labelledby="item-children">
          <div class="media-row-head">
            <h2 id="item-children">{i.childrenTitle}</h2>
          </div>
          <ul class="media-grid">
            <LibraryCards cards={i.children} nextHref={null} />
          </ul>
        </section>
      ) : null}
    </article>
  );
}

/** The failure of a "load more" request, in place of the next cards. */
export function MoreFailed(props: { message: string; retryHref: string }) {
  return (
    <li class="media-more">
      <Failure message={props.message} />
      <a class="btn" href={props.retryHref}>
        Try again
      </a>
    </li>
  );
}
