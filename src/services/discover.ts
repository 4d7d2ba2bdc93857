/**
 * Discover and search: Seerr's lists of movies and shows (trending, popular, upcoming) and its search, reduced to
 * the cards the pages show and cached in the shared cache, so many people browsing cost few Seerr calls.
 */
import type { SeerrMediaStatus, SeerrSearchPage, SeerrSearchResult } from "../integrations/seerr/types";
import { cachedSeerr, configuredSeerr, peekSeerr, type SeerrDeps, type SeerrResult } from "./seerr";

/** The discover lists, in the order the discover page shows them. */
export const DISCOVER_LISTS = [
  { id: "trending", title: "Trending" },
  { id: "movies", title: "Popular movies" },
  { id: "tv", title: "Popular shows" },
  { id: "upcoming-movies", title: "Upcoming movies" },
  { id: "upcoming-tv", title: "Upcoming shows" },
] as const;
export type DiscoverListId = (typeof DISCOVER_LISTS)[number]["id"];

/** How long a discover page stays cached. */
export const DISCOVER_TTL_MS = 10 * 60_000;
/** How long a search answer stays cached (repeated searches within it cost no Seerr call). */
export const SEARCH_TTL_MS = 3 * 60_000;
/** The last page anyone may ask for (TMDB itself stops at 500). */
export const MAX_PAGE = 500;
/** The longest search query (Seerr passes it to TMDB, which ignores more). */
export const MAX_QUERY_LENGTH = 100;

/** A movie or show as a poster card shows it; image paths are TMDB's (mint proxy URLs before a page sees them). */
export interface MediaCard {
  mediaType: "movie" | "tv";
  tmdbId: number;
  title: string;
  year: number | null;
  overview: string | null;
  posterPath: string | null;
  backdropPath: string | null;
  /** Availability as Seerr knows it (unknown when nobody asked for it and Plex does not have it). */
  status: SeerrMediaStatus;
  status4k: SeerrMediaStatus;
}

/** One page of cards. */
export interface CardPage {
  page: number;
  totalPages: number;
  totalResults: number;
  cards: MediaCard[];
}

/** True for the id of a discover list. */
export function isDiscoverList(id: string): id is DiscoverListId {
  return DISCOVER_LISTS.some((l) => l.id === id);
}

/** Read a page number from a query string: a whole number from 1 to MAX_PAGE, else undefined. */
export function parsePage(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return 1;
  if (!/^\d{1,3}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= MAX_PAGE ? n : undefined;
}

function toCards(page: SeerrSearchPage): CardPage {
  return {
    page: page.page,
    totalPages: Math.min(page.totalPages, MAX_PAGE),
    totalResults: page.totalResults,
    cards: page.results.filter(isTitle).map(toCard),
  };
}

function isTitle(r: SeerrSearchResult): r is SeerrSearchResult & { mediaType: "movie" | "tv" } {
  return r.mediaType === "movie" || r.mediaType === "tv";
}

function toCard(r: SeerrSearchResult & { mediaType: "movie" | "tv" }): MediaCard {
  return {
    mediaType: r.mediaType,
    tmdbId: r.id,
    title: r.title || "Untitled",
    year: r.year,
    overview: r.overview,
    posterPath: r.posterPath,
    backdropPath: r.backdropPath,
    status: r.media?.status ?? "unknown",
    status4k: r.media?.status4k ?? "unknown",
  };
}

/** What a list or search has to show: cards, Seerr's failure, or that no Seerr is configured. */
export type CardsAnswer = SeerrResult<CardPage> | { ok: false; unconfigured: true };

function discoverKey(cacheId: string, list: DiscoverListId, page: number): string {
  return `seerr:${cacheId}:discover:${list}:${page}`;
}

/** Read a discover page from the cache only; undefined when it is not cached (the page then loads it). */
export async function peekDiscover(deps: SeerrDeps, list: DiscoverListId, page = 1): Promise<CardsAnswer | undefined> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return { ok: false, unconfigured: true };
  return peekSeerr<CardPage>(deps, discoverKey(seerr.cacheId, list, page));
}

/** Return one page of a discover list, cached for DISCOVER_TTL_MS. */
export async function getDiscover(deps: SeerrDeps, list: DiscoverListId, page = 1): Promise<CardsAnswer> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return { ok: false, unconfigured: true };
  return cachedSeerr(deps, discoverKey(seerr.cacheId, list, page), DISCOVER_TTL_MS, async () =>
    toCards(await seerr.client.discover(list, { page })),
  );
}

/**
 * Tidy a search query: Unicode NFC (so "é" typed two ways is one query), control characters made spaces, lone
 * surrogates (which no URL can carry) and private-use characters removed, runs of white space made one space.
 * Returns "" when nothing is left.
 */
export function normalizeQuery(raw: string): string {
  return raw
    .replace(/\p{Cs}|\p{Co}/gu, "")
    .normalize("NFC")
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/gu, " ")
    .trim();
}

function searchKey(cacheId: string, query: string, page: number): string {
  return `seerr:${cacheId}:search:${page}:${query.toLowerCase()}`;
}

/** Search movies and shows (people and collections are left out); answers are cached for SEARCH_TTL_MS. */
export async function searchTitles(deps: SeerrDeps, query: string, page = 1): Promise<CardsAnswer> {
  const seerr = await configuredSeerr(deps);
  if (!seerr) return { ok: false, unconfigured: true };
  return cachedSeerr(deps, searchKey(seerr.cacheId, query, page), SEARCH_TTL_MS, async () =>
    toCards(await seerr.client.search(query, { page })),
  );
}
