import type { Child } from "hono/jsx";
import { Badge, type BadgeView } from "../components/media";
import { SeerrNotConfigured } from "./discover";

/** A season row on a show's page. */
export interface SeasonView {
  seasonNumber: number;
  name: string;
  episodeCount: number | null;
  airYear: string | null;
  badge: BadgeView | null;
}

/** Everything a title page shows, already decided: signed image URLs, badges, the Plex link. */
export interface TitleView {
  mediaType: "movie" | "tv";
  tmdbId: number;
  title: string;
  year: number | null;
  tagline: string | null;
  overview: string | null;
  /** "2 h 28 min" for a movie, "45 min episodes" for a show. */
  runtime: string | null;
  genres: string[];
  cast: { name: string; character: string | null }[];
  posterUrl: string | null;
  backdropUrl: string | null;
  badge: BadgeView | null;
  watchUrl: string | null;
  seasons: SeasonView[] | null;
}

/** Format a length in minutes as "2 h 28 min" or "45 min". */
export function formatRuntime(minutes: number | null): string | null {
  if (!minutes || minutes <= 0) return null;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h${m > 0 ? ` ${m} min` : ""}` : `${m} min`;
}

/** A title's page: backdrop, poster, facts, overview, cast, seasons, and the request area. */
export function TitlePage(props: { t: TitleView; request?: Child }) {
  const t = props.t;
  const facts = [t.mediaType === "movie" ? "Movie" : "Show", t.year ? String(t.year) : null, t.runtime]
    .filter(Boolean)
    .join(" · ");
  return (
    <article class="title-page" aria-labelledby="title-name">
      <div class="title-hero">
        {t.backdropUrl ? <img class="title-backdrop" src={t.backdropUrl} alt="" width="1280" height="720" /> : null}
        <div class="title-head">
          {t.posterUrl ? (
            <img class="title-poster" src={t.posterUrl} alt={`Poster of ${t.title}`} width="250" height="375" />
          ) : (
            <span class="title-poster media-card-blank" aria-hidden="true">
              {t.title.slice(0, 1)}
            </span>
          )}
          <div class="title-info">
            <p class="hint title-facts">{facts}</p>
            <h1 id="title-name">
              {t.title} {t.year ? <span class="muted">({t.year})</span> : null}
            </h1>
            {t.tagline ? <p class="title-tagline">{t.tagline}</p> : null}
            <div class="row title-status">
              {t.badge ? <Badge badge={t.badge} large /> : null}
              {t.genres.map((g) => (
                <span class="pill">{g}</span>
              ))}
            </div>
            <div class="row title-actions">
              {t.watchUrl ? (
                <a class="btn btn-plex" href={t.watchUrl} rel="noopener noreferrer" target="_blank">
                  Watch in Plex
                </a>
              ) : null}
            </div>
          </div>
        </div>
      </div>
      <div class="title-body">
        <div class="title-main">
          {t.overview ? (
            <section aria-labelledby="overview-title">
              <h2 id="overview-title">Overview</h2>
              <p>{t.overview}</p>
            </section>
          ) : null}
          {t.seasons ? <SeasonList seasons={t.seasons} /> : null}
          {t.cast.length > 0 ? (
            <section aria-labelledby="cast-title">
              <h2 id="cast-title">Cast</h2>
              <ul class="title-cast">
                {t.cast.map((c) => (
                  <li>
                    <strong>{c.name}</strong>
                    {c.character ? <span class="hint"> as {c.character}</span> : null}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
        {props.request ? (
          <aside class="card title-request" aria-labelledby="request-title" id="request-area">
            {props.request}
          </aside>
        ) : null}
      </div>
    </article>
  );
}

function SeasonList(props: { seasons: SeasonView[] }) {
  return (
    <section aria-labelledby="seasons-title">
      <h2 id="seasons-title">Seasons</h2>
      {props.seasons.length === 0 ? (
        <p class="muted">TMDB lists no seasons for this show yet.</p>
      ) : (
        <ul class="title-seasons">
          {props.seasons.map((s) => (
            <li data-season={String(s.seasonNumber)}>
              <span class="title-season-name">{s.name}</span>
              <span class="hint">
                {[s.episodeCount !== null ? `${s.episodeCount} episodes` : null, s.airYear].filter(Boolean).join(" · ")}
              </span>
              {s.badge ? <Badge badge={s.badge} /> : <span class="hint">Not in Plex</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The page for a title that cannot be shown: not connected, unknown, or Seerr failing. */
export function TitleUnavailable(props: {
  kind: "unconfigured" | "unknown" | "error";
  message?: string;
  isAdmin: boolean;
}) {
  return (
    <section class="card narrow" aria-labelledby="title-missing">
      <h1 id="title-missing">
        {props.kind === "unknown" ? "No such title" : props.kind === "error" ? "Seerr did not help" : "Not connected"}
      </h1>
      {props.kind === "unconfigured" ? (
        <SeerrNotConfigured isAdmin={props.isAdmin} />
      ) : props.kind === "unknown" ? (
        <p>Seerr knows no title with this TMDB id. It may have been removed from TMDB.</p>
      ) : (
        <p class="alert alert-error" role="alert">
          {props.message}
        </p>
      )}
      <p>
        <a href="/discover">Discover something else</a> or <a href="/search">search</a>.
      </p>
    </section>
  );
}
