import { type CardsState, CardItems, SearchBox, SeerrNotConfigured } from "./discover";

/** The results region: swapped whole as the user types, so it always shows the answer to the latest query. */
export function SearchResults(props: {
  query: string;
  state: CardsState | null;
  total: number | null;
  error?: string;
}) {
  const { state } = props;
  return (
    <section id="search-results" aria-live="polite" aria-label="Search results">
      {props.error ? (
        <p class="field-error" role="alert">
          {props.error}
        </p>
      ) : state === null ? (
        <p class="muted">Type the name of a movie or show. Results show as you type.</p>
      ) : state.kind === "unconfigured" ? (
        <SeerrNotConfigured isAdmin={state.isAdmin} />
      ) : state.kind === "error" ? (
        <p class="alert alert-error" role="alert">
          {state.message}
        </p>
      ) : state.kind === "loading" ? null : state.cards.length === 0 ? (
        <p class="empty">
          <strong>Nothing found for “{props.query}”.</strong>
          Check the spelling, or try the original title.
        </p>
      ) : (
        <>
          {props.total !== null ? (
            <p class="hint">
              {props.total === 1 ? "1 result" : `${props.total} results`} for “{props.query}”
            </p>
          ) : null}
          <ul class="media-grid">
            <CardItems cards={state.cards} nextHref={state.nextHref} />
          </ul>
        </>
      )}
    </section>
  );
}

/** The search page: a GET form (results as you type with htmx) and the results. */
export function SearchPage(props: { query: string; state: CardsState | null; total: number | null; error?: string }) {
  return (
    <section aria-labelledby="search-title">
      <div class="page-head">
        <h1 id="search-title">Search</h1>
        <a href="/discover">Discover</a>
      </div>
      <SearchBox query={props.query} live error={props.error} />
      <SearchResults query={props.query} state={props.state} total={props.total} error={props.error} />
    </section>
  );
}
