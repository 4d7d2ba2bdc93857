/**
 * The Plex library as each person may see it: every call goes to Plex with the viewer's own token for our server
 * (the accessToken of their plex.tv resources, saved at each Plex sign-in), so Plex itself decides which sections
 * they were given. Admins without a usable token of their own browse with the owner's token.
 */
import type { AppDeps } from "../app/deps";
import type { PlexClient } from "../integrations/plex/client";
import type { PlexItem, PlexSection, PlexSort } from "../integrations/plex/types";
import { IntegrationError } from "../integrations/http";
import type { User } from "../store/users";
import { getIntegrations, type PlexIntegration } from "./integrations";
import { plexServerClient } from "./plex-server";

type LibraryDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "coordination" | "log">;

/** How long a viewer's list of sections stays cached. */
export const SECTIONS_TTL_MS = 60_000;
/** Items per page of a section's poster grid. */
export const LIBRARY_PAGE_SIZE = 48;

/** Whose eyes a library call uses, or why there are none. */
export type PlexViewer =
  | { kind: "unconfigured" }
  /** A member whose account is not linked to a Plex account. */
  | { kind: "unlinked" }
  /** Linked to Plex, but no token for this server is stored (signed in before, or on another server). */
  | { kind: "stale" }
  | {
      kind: "ready";
      client: PlexClient;
      /** Names the viewer in cache keys: one user, or the owner's token. */
      cacheId: string;
      machineIdentifier: string | null;
    };

/** Whose token a user's library calls use (and the cache id that names it), or why there is none. */
export function viewerToken(
  deps: Pick<AppDeps, "secretBox" | "log">,
  user: User,
  plex: PlexIntegration,
): { token: string; cacheId: string } | { kind: "unlinked" | "stale" } {
  const server = plex.machineIdentifier ?? plex.url;
  const own = ownToken(deps, user, plex);
  if (own) return { token: own, cacheId: `${server}:u:${user.id}` };
  if (user.role === "admin") return { token: plex.token, cacheId: `${server}:owner` };
  return user.plexId === null ? { kind: "unlinked" } : { kind: "stale" };
}

/** Work out whose token a user's library calls use. */
export async function plexViewer(deps: LibraryDeps, user: User): Promise<PlexViewer> {
  const { plex } = await getIntegrations(deps);
  if (!plex) return { kind: "unconfigured" };
  const who = viewerToken(deps, user, plex);
  if ("kind" in who) return who;
  return {
    kind: "ready",
    client: await plexServerClient(deps, { ...plex, token: who.token }),
    cacheId: who.cacheId,
    machineIdentifier: plex.machineIdentifier,
  };
}

// A token is sent only to the server it was issued for.
function ownToken(deps: Pick<AppDeps, "secretBox" | "log">, user: User, plex: PlexIntegration): string | undefined {
  if (!user.plexTokenEnc || !plex.machineIdentifier || user.plexTokenServer !== plex.machineIdentifier)
    return undefined;
  try {
    return deps.secretBox.decrypt(user.plexTokenEnc);
  } catch (err) {
    deps.log.warn("library: a stored Plex token cannot be read", { userId: user.id, error: (err as Error).message });
    return undefined;
  }
}

/** Say what a Plex failure means to the person browsing. */
export function libraryFailure(err: unknown): string {
  if (err instanceof IntegrationError) {
    if (err.kind === "unauthorized")
      return "Plex no longer accepts your sign-in for this server. Sign out and sign in with Plex again.";
    return `${err.message}. Try again in a moment.`;
  }
  throw err;
}

type Ready = Extract<PlexViewer, { kind: "ready" }>;

/** A section as the library pages list it. */
export interface LibrarySection {
  key: string;
  type: PlexSection["type"];
  title: string;
}

/** Return the sections Plex shares with the viewer (cached per viewer). */
export async function librarySections(deps: LibraryDeps, viewer: Ready): Promise<LibrarySection[]> {
  const key = `library:${viewer.cacheId}:sections`;
  const hit = await deps.coordination.cache.get<LibrarySection[]>(key).catch(() => undefined);
  if (Array.isArray(hit)) return hit;
  return deps.coordination.cache.wrap(key, SECTIONS_TTL_MS, async () =>
    (await viewer.client.listSections()).map((s) => ({ key: s.key, type: s.type, title: s.title })),
  );
}

/** One page of a section, or undefined when the viewer was not given that section. */
export async function browseLibrary(
  deps: LibraryDeps,
  viewer: Ready,
  sectionKey: string,
  opts: { page: number; sort: PlexSort; query: string },
): Promise<{ section: LibrarySection; items: PlexItem[]; total: number; pages: number } | undefined> {
  const section = (await librarySections(deps, viewer)).find((s) => s.key === sectionKey);
  if (!section) return undefined;
  const { items, total } = await viewer.client.browseSection(sectionKey, {
    start: (opts.page - 1) * LIBRARY_PAGE_SIZE,
    size: LIBRARY_PAGE_SIZE,
    sort: opts.sort,
    title: opts.query || undefined,
  });
  return { section, items, total, pages: Math.max(1, Math.ceil(total / LIBRARY_PAGE_SIZE)) };
}

/**
 * An item page's data: the item, its children (seasons, episodes) and its parent; undefined when not the viewer's.
 * `sectionKey` null takes the item from whichever section it is in, which must still be one of the viewer's.
 */
export async function libraryItem(
  deps: LibraryDeps,
  viewer: Ready,
  sectionKey: string | null,
  ratingKey: string,
): Promise<
  { section: LibrarySection; item: PlexItem; children: PlexItem[]; parent: PlexItem | undefined } | undefined
> {
  const sections = await librarySections(deps, viewer);
  if (sectionKey !== null && !sections.some((s) => s.key === sectionKey)) return undefined;
  const item = await viewer.client.getMetadata(ratingKey);
  // The item must be in the section the address names (if it names one), and that section one the viewer was given.
  if (!item || (sectionKey !== null && item.sectionKey !== sectionKey)) return undefined;
  const section = sections.find((s) => s.key === item.sectionKey);
  if (!section) return undefined;
  const hasChildren = item.type === "show" || item.type === "season" || item.type === "artist" || item.type === "album";
  const [children, parent] = await Promise.all([
    hasChildren ? viewer.client.listChildren(ratingKey) : undefined,
    item.parentRatingKey && item.type !== "movie" ? viewer.client.getMetadata(item.parentRatingKey) : undefined,
  ]);
  return { section, item, children: children ?? [], parent };
}
