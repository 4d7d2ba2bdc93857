import { ELLIPSIS } from "../components/format";
import { oncePerKey } from "../components/kept";
import { type CardView, LoadMore, PosterCards } from "../components/media";

/** What a row or grid of cards has to show. */
export type CardsState =
  | { kind: "loading" }
  | { kind: "unconfigured"; isAdmin: boolean }
  | { kind: "error"; message: string }
  | { kind: "ok"; cards: CardView[]; nextHref: string | null };

/** The title shown large at the top of the discover page, over its backdrop. */
export interface HeroView {
  href: string;
  title: string;
  year: number | null;
  typeLabel: string;
  overview: string | null;
  backdropUrl: string | null;
}

/** Say that Seerr is not connected, and to whom that matters. */
export function SeerrNotConfigured(props: { isAdmin: boolean }) {
  return (
    <p class="muted">
      No Seerr is connected to MediaNest yet, so there is nothing to discover or request.{" "}
      {props.isAdmin ? <a href="/admin/integrations">Connect Seerr</a> : "Ask the owner to connect one."}
    </p>
  );
}

function Failure(props: { message: string }) {
  return (
    <p class="alert alert-error" role="alert">
      {props.message}
    </p>
  );
}

// A row without cards (still loading, or no Seerr) is the same for everyone who sees it: rendered once.
const keptRow = oncePerKey();

/** A horizontal row of posters (discover page and dashboard); loads itself when not cached yet. */
export function DiscoverRow(props: { id: string; title: string; state: CardsState; selfLoading?: boolean }) {
  const { state } = props;
  if (state.kind === "loading" || state.kind === "unconfigured") {
    const detail = state.kind === "unconfigured" ? state.isAdmin : props.selfLoading !== false;
    return keptRow(`${props.id} ${props.title} ${state.kind} ${detail}`, () => discoverRow(props));
  }
  return discoverRow(props);
}

function discoverRow(props: { id: string; title: string; state: CardsState; selfLoading?: boolean }) {
  const { state } = props;
  // A row inside something that loads it (the top of the discover page) does not load itself.
  const loading = state.kind === "loading" && props.selfLoading !== false;
  const headingId = `row-${props.id}-title`;
  const seeAll = `/discover/${props.id}`;
  return (
    <section
      class="media-row"
      id={`row-${props.id}`}
      aria-labelledby={headingId}
      aria-busy={state.kind === "loading" ? "true" : undefined}
      hx-get={loading ? `/discover/${props.id}/row` : undefined}
      hx-trigger={loading ? "load" : undefined}
      hx-swap={loading ? "outerHTML" : undefined}
    >
      <div class="media-row-head">
        <h2 id={headingId}>
          <a href={seeAll}>{props.title}</a>
        </h2>
        {state.kind === "ok" && state.cards.length > 0 ? (
          <a class="hint" href={seeAll}>
            See all
          </a>
        ) : null}
      </div>
      {state.kind === "loading" ? (
        <p class="muted">
          Asking Seerr{ELLIPSIS}
          <noscript>
            {" "}
            <a href={seeAll}>Show them</a>
          </noscript>
        </p>
      ) : state.kind === "unconfigured" ? (
        <SeerrNotConfigured isAdmin={state.isAdmin} />
      ) : state.kind === "error" ? (
        <Failure message={state.message} />
      ) : state.cards.length === 0 ? (
        <p class="muted">Seerr has nothing to show here right now.</p>
      ) : (
        <ul class="media-strip">
          <PosterCards cards={state.cards} />
        </ul>
      )}
    </section>
  );
}

/** The large title over its backdrop at the top of the discover page. */
export function Hero(props: { hero: HeroView }) {
  const h = props.hero;
  return (
    <section class="media-hero" aria-labelledby="hero-title">
      {h.backdropUrl ? <img class="media-hero-backdrop" src={h.backdropUrl} alt="" width="1280" height="720" /> : null}
      <div class="media-hero-body">
        <span class="hint">Trending · {h.typeLabel}</span>
        <h2 id="hero-title">
          {h.title} {h.year ? <span class="muted">({h.year})</span> : null}
        </h2>
        {h.overview ? <p class="media-hero-overview">{h.overview}</p> : null}
        <a class="btn btn-primary" href={h.href}>
          More about it
        </a>
      </div>
    </section>
  );
}

/**
 * The search box: a plain GET form to /search. On the search page (live) htmx sends it as the user types (300 ms
 * after the last key) and on Enter, swaps in the results and puts the query in the address; a newer query replaces
 * one still in flight, so the last answer wins.
 */
export function SearchBox(props: { query: string; live?: boolean; error?: string | undefined }) {
  const live = props.live === true;
  return (
    <form
      class="media-search"
      action="/search"
      method="get"
      role="search"
      hx-get={live ? "/search" : undefined}
      hx-target={live ? "#search-results" : undefined}
      hx-swap={live ? "outerHTML" : undefined}
      hx-push-url={live ? "true" : undefined}
      hx-sync={live ? "this:replace" : undefined}
      hx-indicator={live ? "#search-busy" : undefined}
    >
      <label for="search-q" class="visually-hidden">
        Search movies and shows
      </label>
      <input
        id="search-q"
        type="search"
        name="q"
        value={props.query}
        maxlength={100}
        placeholder="Search movies and shows"
        autocomplete="off"
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={live ? "search-results" : undefined}
        hx-get={live ? "/search" : undefined}
        hx-trigger={live ? "input changed delay:300ms" : undefined}
        hx-target={live ? "#search-results" : undefined}
        hx-swap={live ? "outerHTML" : undefined}
        hx-push-url={live ? "true" : undefined}
        hx-sync={live ? "closest form:replace" : undefined}
        hx-indicator={live ? "#search-busy" : undefined}
      />
      <button class="btn" type="submit">
        Search
      </button>
      {live ? (
        <span id="search-busy" class="htmx-indicator hint" aria-hidden="true">
          Searching…
        </span>
      ) : null}
    </form>
  );
}

/**
 * The top of the discover page: a trending title over its backdrop and the trending row. While trending is not
 * cached, both load together (one Seerr answer feeds them).
 */
export function DiscoverTop(props: {
  hero: HeroView | null;
  trending: { id: string; title: string; state: CardsState };
}) {
  const loading = props.trending.state.kind === "loading";
  return (
    <div
      id="discover-top"
      hx-get={loading ? `/discover/${props.trending.id}/row?hero=1` : undefined}
      hx-trigger={loading ? "load" : undefined}
      hx-swap={loading ? "outerHTML" : undefined}
    >
      {props.hero ? <Hero hero={props.hero} /> : null}
      <DiscoverRow
        id={props.trending.id}
        title={props.trending.title}
        state={props.trending.state}
        selfLoading={false}
      />
    </div>
  );
}

/** The discover page: the search box, a trending title over its backdrop, then a row per list. */
export function DiscoverPage(props: {
  hero: HeroView | null;
  rows: { id: string; title: string; state: CardsState }[];
}) {
  const [first, ...rest] = props.rows;
  return (
    <section class="discover" aria-labelledby="discover-title">
      <div class="page-head">
        <h1 id="discover-title">Discover</h1>
        <SearchBox query="" />
      </div>
      {first ? <DiscoverTop hero={props.hero} trending={first} /> : null}
      {rest.map((r) => (
        <DiscoverRow id={r.id} title={r.title} state={r.state} />
      ))}
    </section>
  );
}

/** The cards of one page of a list and the element that loads the next (what infinite scrolling appends). */
export function CardItems(props: { cards: CardView[]; nextHref: string | null }) {
  return (
    <>
      <PosterCards cards={props.cards} />
      {props.nextHref ? <LoadMore href={props.nextHref} /> : null}
    </>
  );
}

/** One discover list as a poster grid that keeps loading as you scroll. */
export function DiscoverListPage(props: { title: string; state: CardsState; page: number; prevHref: string | null }) {
  const { state } = props;
  return (
    <section aria-labelledby="list-title">
      <div class="page-head">
        <h1 id="list-title">{props.title}</h1>
        <a href="/discover">All lists</a>
      </div>
      {props.prevHref ? (
        <p>
          <a href={props.prevHref}>Earlier titles</a>
        </p>
      ) : null}
      {state.kind === "unconfigured" ? (
        <SeerrNotConfigured isAdmin={state.isAdmin} />
      ) : state.kind === "error" ? (
        <Failure message={state.message} />
      ) : state.kind === "loading" ? null : state.cards.length === 0 ? (
        <p class="muted">{props.page > 1 ? "There are no more titles in this list." : "This list is empty."}</p>
      ) : (
        <ul class="media-grid">
          <CardItems cards={state.cards} nextHref={state.nextHref} />
        </ul>
      )}
    </section>
  );
}
