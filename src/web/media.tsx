import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { allow } from "../server/access";
import type { AppDeps, AppEnv } from "../app/deps";
import {
  type CardsAnswer,
  DISCOVER_LISTS,
  type DiscoverListId,
  getDiscover,
  isDiscoverList,
  parsePage,
  MAX_QUERY_LENGTH,
  normalizeQuery,
  peekDiscover,
  searchTitles,
} from "../services/discover";
import { imageProxyKey, signedTmdbImageUrl } from "../services/image-proxy";
import type { User } from "../store/users";
import {
  CardItems,
  type CardsState,
  DiscoverListPage,
  DiscoverPage,
  DiscoverRow,
  DiscoverTop,
  type HeroView,
} from "../../views/pages/discover";
import { SearchPage, SearchResults } from "../../views/pages/search";
import { formatRuntime, type TitleView, TitlePage, TitleUnavailable } from "../../views/pages/title";
import { availabilityBadge, seasonBadge } from "../services/availability";
import { z } from "zod";
import { RequestArea, type RequestAreaView, type RequestFlash } from "../../views/partials/request-area";
import { clientIp } from "../server/request";
import { createMediaRequest, REQUEST_RATE, STATE_LABELS } from "../services/media-requests";
import { enforceRateLimit } from "../services/rate-limit";
import {
  getTitle,
  type MediaType,
  parseTmdbId,
  seasonStates,
  type TitleDetails,
  titleRequestChoices,
  watchInPlexUrl,
} from "../services/titles";
import { listLiveRequestsForTitles } from "../store/media-requests";
import { isHtmxRequest } from "../server/htmx";
import { cardsState } from "./cards";
import { form } from "./forms";
import { renderPage } from "../server/htmx";

function heroFrom(deps: AppDeps, answer: CardsAnswer | undefined): HeroView | null {
  if (!answer?.ok) return null;
  const first = answer.data.cards.find((c) => c.backdropPath) ?? answer.data.cards[0];
  if (!first) return null;
  return {
    href: `/title/${first.mediaType}/${first.tmdbId}`,
    title: first.title,
    year: first.year,
    typeLabel: first.mediaType === "movie" ? "Movie" : "Show",
    overview: first.overview,
    backdropUrl: signedTmdbImageUrl(imageProxyKey(deps), first.backdropPath, "w1280"),
  };
}

function listTitle(id: DiscoverListId): string {
  return DISCOVER_LISTS.find((l) => l.id === id)!.title;
}

function listHref(id: DiscoverListId, page: number): string {
  return page <= 1 ? `/discover/${id}` : `/discover/${id}?page=${page}`;
}

/** Read ?page=; anything but a whole number from 1 to 500 is refused with 422 naming the field. */
export function pageParam(c: Context<AppEnv>): number {
  const page = parsePage(c.req.query("page"));
  if (page === undefined) throw new HTTPException(422, { message: "page: use a whole number from 1 to 500." });
  return page;
}

/** What infinite scrolling appends: the next cards, or in place of them why they could not be had. */
export function MoreCards(props: { state: CardsState; retryHref: string }) {
  const { state } = props;
  if (state.kind === "ok") return <CardItems cards={state.cards} nextHref={state.nextHref} />;
  return (
    <li class="media-more">
      <p class="alert alert-error" role="alert">
        {state.kind === "error" ? state.message : "Seerr is not connected."}
      </p>
      <a class="btn" href={props.retryHref}>
        Try again
      </a>
    </li>
  );
}

async function toTitleView(deps: AppDeps, d: TitleDetails): Promise<TitleView> {
  const key = imageProxyKey(deps);
  return {
    mediaType: d.mediaType,
    tmdbId: d.tmdbId,
    title: d.title,
    year: d.year,
    tagline: d.tagline,
    overview: d.overview,
    runtime:
      d.mediaType === "movie"
        ? formatRuntime(d.runtimeMinutes)
        : d.runtimeMinutes
          ? `${formatRuntime(d.runtimeMinutes)} episodes`
          : null,
    genres: d.genres,
    cast: d.cast,
    posterUrl: signedTmdbImageUrl(key, d.posterPath, "w500"),
    backdropUrl: signedTmdbImageUrl(key, d.backdropPath, "w1280"),
    badge: availabilityBadge(d.media?.status ?? "unknown"),
    watchUrl: await watchInPlexUrl(deps, d.media),
    seasons:
      d.mediaType === "tv"
        ? seasonStates(d).map((s) => ({
            seasonNumber: s.seasonNumber,
            name: s.name,
            episodeCount: s.episodeCount,
            airYear: s.airDate?.slice(0, 4) ?? null,
            badge: seasonBadge(s),
          }))
        : null,
  };
}

/** Decide a title page's request area for this person. */
async function requestAreaView(c: Context<AppEnv>, d: TitleDetails): Promise<RequestAreaView> {
  const deps = c.get("deps");
  const user = me(c);
  const choices = await titleRequestChoices(deps, user, d);
  if (!choices) return { kind: "not-allowed" };
  const mine = (await listLiveRequestsForTitles(deps.database, d.mediaType, [d.tmdbId])).filter(
    (r) => r.userId === user.id,
  );
  return {
    kind: d.mediaType,
    action: `/title/${d.mediaType}/${d.tmdbId}/request`,
    csrf: c.get("csrfToken"),
    standard: choices.standard,
    fourK: choices.fourK,
    seasons:
      d.mediaType === "tv"
        ? seasonStates(d).map((s) => ({
            seasonNumber: s.seasonNumber,
            name: s.name,
            requestable: s.requestable,
            note: s.requestable
              ? null
              : s.status === "available" || s.status === "partially_available"
                ? "In Plex"
                : s.requested === "pending"
                  ? "Requested, pending approval"
                  : "Requested",
          }))
        : [],
    mine: mine.map((r) => ({
      label: `${r.is4k ? "4K, " : ""}${r.seasons.length ? `season ${r.seasons.join(", ")}, ` : ""}${STATE_LABELS[r.status].toLowerCase()}`,
    })),
  };
}

function tmdbIdParam(c: Context<AppEnv>): number {
  const id = parseTmdbId(c.req.param("id") ?? "");
  if (id === undefined) throw new HTTPException(422, { message: "id: a TMDB id is a whole number, such as 27205." });
  return id;
}

/** Show a title's page; an id that is no TMDB id is 422, one Seerr does not know 404, Seerr failing 502. */
async function showTitlePage(
  c: Context<AppEnv>,
  type: MediaType,
  opts: { flash?: RequestFlash; status?: number } = {},
) {
  const deps = c.get("deps");
  const user = me(c);
  const id = tmdbIdParam(c);
  const answer = await getTitle(deps, type, id);
  const isAdmin = user.role === "admin";
  if (!answer.ok) {
    const unconfigured = "unconfigured" in answer;
    return renderPage(
      c,
      "Title",
      <TitleUnavailable
        kind={unconfigured ? "unconfigured" : "error"}
        message={unconfigured ? undefined : answer.error}
        isAdmin={isAdmin}
      />,
      { status: unconfigured ? 200 : 502 },
    );
  }
  if (!answer.data)
    return renderPage(c, "No such title", <TitleUnavailable kind="unknown" isAdmin={isAdmin} />, { status: 404 });
  const view = await toTitleView(deps, answer.data);
  const area = <RequestArea view={await requestAreaView(c, answer.data)} flash={opts.flash ?? madeFlash(c)} />;
  return renderPage(c, view.title, <TitlePage t={view} request={area} />, {
    status: opts.status ?? 200,
    fragment: area,
  });
}

/** The message after a request made without JavaScript (the redirect carries ?requested=<state>). */
function madeFlash(c: Context<AppEnv>): RequestFlash | undefined {
  const state = c.req.query("requested");
  if (!state) return undefined;
  const label = STATE_LABELS[state as keyof typeof STATE_LABELS];
  return label
    ? {
        ok: true,
        message: `Requested. Its state: ${label.toLowerCase()}.`,
        link: { href: "/requests", label: "Your requests" },
      }
    : undefined;
}

const requestForm = z.object({
  is4k: z
    .enum(["0", "1"], { error: "is4k: choose the standard copy or 4K." })
    .optional()
    .transform((v) => v === "1"),
  seasons: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      const list = [v].flat();
      if (list.includes("all")) return "all" as const;
      const numbers = list.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : NaN));
      if (numbers.some((n) => !Number.isInteger(n) || n < 1)) {
        ctx.addIssue({ code: "custom", message: "seasons: choose seasons from the list." });
        return z.NEVER;
      }
      return numbers;
    }),
});

/** Check the title's id and the request rate limit, which a request form that does not parse counts against too. */
async function requestGate(c: Context<AppEnv>): Promise<number> {
  const id = tmdbIdParam(c);
  const user = me(c);
  await enforceRateLimit(c.get("deps"), REQUEST_RATE, [`request:user:${user.id}`, `request:ip:${clientIp(c)}`]);
  return id;
}

const checkRequestForm = (type: MediaType) =>
  form(requestForm, async (c, errors) => {
    await requestGate(c);
    return showTitlePage(c, type, { flash: { ok: false, message: Object.values(errors)[0]! }, status: 422 });
  });

/** Make a request from a title page: the area comes back with what happened (htmx) or the page does (no JS). */
async function requestTitle(c: Context<AppEnv>, type: MediaType, data: z.output<typeof requestForm>) {
  const deps = c.get("deps");
  const user = me(c);
  const id = await requestGate(c);
  if (type === "tv" && data.seasons === undefined)
    return showTitlePage(c, type, { flash: { ok: false, message: "Choose at least one season." }, status: 422 });
  const outcome = await createMediaRequest(
    deps,
    user,
    {
      mediaType: type,
      tmdbId: id,
      is4k: data.is4k,
      ...(type === "tv" && data.seasons !== undefined ? { seasons: data.seasons } : {}),
    },
    { user, ip: clientIp(c) },
  );
  if (outcome.kind === "refused")
    return showTitlePage(c, type, {
      flash: { ok: false, message: outcome.message, link: outcome.link },
      status: outcome.status,
    });
  if (!isHtmxRequest(c)) return c.redirect(`/title/${type}/${id}?requested=${outcome.request.status}`, 303);
  return showTitlePage(c, type, {
    flash: {
      ok: true,
      message: `Requested. Its state: ${STATE_LABELS[outcome.request.status].toLowerCase()}.`,
      link: { href: "/requests", label: "Your requests" },
    },
  });
}

function me(c: Context<AppEnv>): User {
  return c.get("user")!;
}

/** Routes of discover (the lists of Seerr's discover page), with each list's page and its dashboard row. */
export function mediaRoutes() {
  const app = new Hono<AppEnv>();

  // The page itself never waits for Seerr: rows that are not cached yet load themselves.
  app.get("/discover", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const answers = await Promise.all(DISCOVER_LISTS.map((l) => peekDiscover(deps, l.id)));
    const rows = DISCOVER_LISTS.map((l, i) => ({
      id: l.id,
      title: l.title,
      state: cardsState(deps, user, answers[i], (p) => listHref(l.id, p)),
    }));
    return renderPage(c, "Discover", <DiscoverPage hero={heroFrom(deps, answers[0])} rows={rows} />);
  });

  app.get("/discover/:list", allow("user"), async (c) => {
    const deps = c.get("deps");
    const list = c.req.param("list");
    if (!isDiscoverList(list)) return c.notFound();
    const page = pageParam(c);
    const state = cardsState(deps, me(c), await getDiscover(deps, list, page), (p) => listHref(list, p));
    return renderPage(
      c,
      listTitle(list),
      <DiscoverListPage
        title={listTitle(list)}
        state={state}
        page={page}
        prevHref={page > 1 ? listHref(list, page - 1) : null}
      />,
      { fragment: <MoreCards state={state} retryHref={listHref(list, page)} /> },
    );
  });

  app.get("/discover/:list/row", allow("user"), async (c) => {
    const deps = c.get("deps");
    const list = c.req.param("list");
    if (!isDiscoverList(list)) return c.notFound();
    const answer = await getDiscover(deps, list);
    const state = cardsState(deps, me(c), answer, (p) => listHref(list, p));
    const row = { id: list, title: listTitle(list), state };
    // The discover page asks for trending with its backdrop title (?hero=1); the dashboard for the row alone.
    if (c.req.query("hero") === "1")
      return renderPage(c, listTitle(list), <DiscoverTop hero={heroFrom(deps, answer)} trending={row} />);
    return renderPage(c, listTitle(list), <DiscoverRow {...row} />);
  });

  app.get("/title/movie/:id", allow("user"), (c) => showTitlePage(c, "movie"));
  app.get("/title/tv/:id", allow("user"), (c) => showTitlePage(c, "tv"));
  app.post("/title/movie/:id/request", allow("user"), checkRequestForm("movie"), (c) =>
    requestTitle(c, "movie", c.req.valid("form")),
  );
  app.post("/title/tv/:id/request", allow("user"), checkRequestForm("tv"), (c) =>
    requestTitle(c, "tv", c.req.valid("form")),
  );

  // One address for the page, the results typed as you go (htmx swaps #search-results) and the next page of results
  // (more=1: just the cards); plain GETs get the whole page, so it works without JavaScript and can be bookmarked.
  app.get("/search", allow("user"), async (c) => {
    const deps = c.get("deps");
    const query = normalizeQuery(c.req.query("q") ?? "");
    const page = pageParam(c);
    const more = c.req.query("more") === "1";
    const href = (p: number) => `/search?q=${encodeURIComponent(query)}&page=${p}&more=1`;
    if (query.length > MAX_QUERY_LENGTH) {
      const error = `q: use at most ${MAX_QUERY_LENGTH} characters.`;
      const view = { query: query.slice(0, MAX_QUERY_LENGTH), state: null, total: null, error };
      return renderPage(c, "Search", <SearchPage {...view} />, {
        status: 422,
        fragment: <SearchResults {...view} />,
      });
    }
    if (query === "") {
      const view = { query, state: null, total: null };
      return renderPage(c, "Search", <SearchPage {...view} />, { fragment: <SearchResults {...view} /> });
    }
    const answer = await searchTitles(deps, query, page);
    const state = cardsState(deps, me(c), answer, href);
    const view = { query, state, total: answer.ok ? answer.data.totalResults : null };
    return renderPage(c, `${query} · Search`, <SearchPage {...view} />, {
      fragment: more ? (
        <MoreCards state={state} retryHref={`/search?q=${encodeURIComponent(query)}&page=${page}`} />
      ) : (
        <SearchResults {...view} />
      ),
    });
  });

  return app;
}
