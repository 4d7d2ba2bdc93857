import type { AppDeps } from "../app/deps";
import { availabilityBadge } from "../services/availability";
import type { CardsAnswer, MediaCard } from "../services/discover";
import { imageProxyKey, signedTmdbImageUrl } from "../services/image-proxy";
import type { User } from "../store/users";
import type { CardView } from "../../views/components/media";
import type { CardsState } from "../../views/pages/discover";

/** A card ready for a page: the title page link, a signed poster URL, the badge. */
export function toCardView(key: Buffer, card: MediaCard): CardView {
  return {
    href: `/title/${card.mediaType}/${card.tmdbId}`,
    title: card.title,
    year: card.year,
    typeLabel: card.mediaType === "movie" ? "Movie" : "Show",
    posterUrl: signedTmdbImageUrl(key, card.posterPath, "w342"),
    badge: availabilityBadge(card.status),
  };
}

/** Turn a list or search answer into what a row or grid shows; nextHref(page) links the page after this one. */
export function cardsState(
  deps: AppDeps,
  user: User,
  answer: CardsAnswer | undefined,
  nextHref: (page: number) => string,
): CardsState {
  if (!answer) return { kind: "loading" };
  if (!answer.ok) {
    return "unconfigured" in answer
      ? { kind: "unconfigured", isAdmin: user.role === "admin" }
      : { kind: "error", message: answer.error };
  }
  const key = imageProxyKey(deps);
  const { page, totalPages, cards } = answer.data;
  return {
    kind: "ok",
    cards: cards.map((c) => toCardView(key, c)),
    nextHref: page < totalPages ? nextHref(page + 1) : null,
  };
}
