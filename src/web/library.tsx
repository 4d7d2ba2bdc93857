import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppDeps, AppEnv } from "../app/deps";
import type { PlexItem, PlexSort } from "../integrations/plex/types";
import { imageProxyKey, signedPlexImageUrl } from "../services/image-proxy";
import {
  browseLibrary,
  LIBRARY_PAGE_SIZE,
  libraryFailure,
  libraryItem,
  librarySections,
  type PlexViewer,
  plexViewer,
} from "../services/library";
import { plexWebUrl } from "../services/plex-links";
import { allow } from "../server/access";
import { renderPage } from "../server/htmx";
import type { User } from "../store/users";
import {
  ItemPage,
  type LibraryBlocker,
  LibraryBlocked,
  type LibraryCardView,
  LibraryCards,
  LibraryHome,
  MoreFailed,
  SectionPage,
  SORT_LABELS,
  type SortKey,
} from "../../views/pages/library";

const POSTER = { w: 370, h: 556 } as const;
const EPISODE_THUMB = { w: 480, h: 270 } as const;
const BACKDROP = { w: 1280, h: 720 } as const;
const TYPE_LABELS: Record<string, string> = {
  movie: "Movies",
  show: "TV shows",
  artist: "Music",
  photo: "Photos",
  other: "Other",
};
const KEY = /^\d{1,12}$/;

function me(c: Context<AppEnv>): User {
  return c.get("user")!;
}

function blocker(viewer: Exclude<PlexViewer, { kind: "ready" }>, user: User): LibraryBlocker {
  return viewer.kind === "unconfigured" ? { kind: "unconfigured", isAdmin: user.role === "admin" } : viewer;
}

/** Render why there is no library, or a Plex failure as a readable 502 (never a 500). */
function blocked(c: Context<AppEnv>, b: LibraryBlocker) {
  return renderPage(c, "Library", <LibraryBlocked blocker={b} />, { status: b.kind === "error" ? 502 : 200 });
}

/** Read ?page, ?sort and ?q; a bad one is refused with 422 naming the field. */
function browseParams(c: Context<AppEnv>): { page: number; sort: SortKey; query: string } {
  const pageText = c.req.query("page") ?? "1";
  const page = /^\d{1,5}$/.test(pageText) ? Number(pageText) : 0;
  if (page < 1) throw new HTTPException(422, { message: "page: use a whole number from 1 to 99999." });
  const sort = c.req.query("sort") || "title";
  if (!(sort in SORT_LABELS)) throw new HTTPException(422, { message: "sort: use title, added or year." });
  const query = (c.req.query("q") ?? "").trim();
  if (query.length > 100) throw new HTTPException(422, { message: "q: search for at most 100 characters." });
  return { page, sort: sort as SortKey, query };
}

function sectionHref(sectionKey: string, p: { page?: number; sort?: SortKey; query?: string } = {}): string {
  const q = new URLSearchParams();
  if (p.query) q.set("q", p.query);
  if (p.sort && p.sort !== "title") q.set("sort", p.sort);
  if (p.page && p.page > 1) q.set("page", String(p.page));
  const qs = q.toString();
  return `/library/${sectionKey}${qs ? `?${qs}` : ""}`;
}

function subtitle(m: PlexItem): string | null {
  if (m.type === "episode") return m.index != null ? `Episode ${m.index}` : null;
  if (m.type === "season") return m.leafCount != null ? `${m.leafCount} episodes` : null;
  return m.year != null ? String(m.year) : null;
}

function card(deps: AppDeps, sectionKey: string, m: PlexItem): LibraryCardView {
  const size = m.type === "episode" ? EPISODE_THUMB : POSTER;
  return {
    href: `/library/${sectionKey}/${m.ratingKey}`,
    title: m.title,
    subtitle: subtitle(m),
    posterUrl: signedPlexImageUrl(imageProxyKey(deps), m.thumb, size.w, size.h),
  };
}

function duration(ms: number | null): string | null {
  if (!ms || ms <= 0) return null;
  const minutes = Math.round(ms / 60_000);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}

/** Routes of the Plex library: its sections, a section's grid, and item pages, each read with the viewer's token. */
export function libraryRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/library", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const viewer = await plexViewer(deps, user);
    if (viewer.kind !== "ready") return blocked(c, blocker(viewer, user));
    try {
      const sections = await librarySections(deps, viewer);
      const views = sections.map((s) => ({
        href: `/library/${s.key}`,
        title: s.title,
        typeLabel: TYPE_LABELS[s.type] ?? "Other",
      }));
      return renderPage(c, "Library", <LibraryHome sections={views} />);
    } catch (err) {
      return blocked(c, { kind: "error", message: libraryFailure(err) });
    }
  });

  app.get("/library/:sectionKey", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const sectionKey = c.req.param("sectionKey");
    if (!KEY.test(sectionKey)) return c.notFound();
    const params = browseParams(c);
    const viewer = await plexViewer(deps, user);
    if (viewer.kind !== "ready") return blocked(c, blocker(viewer, user));
    const here = sectionHref(sectionKey, params);
    let result: Awaited<ReturnType<typeof browseLibrary>>;
    try {
      result = await browseLibrary(deps, viewer, sectionKey, { ...params, sort: params.sort as PlexSort });
    } catch (err) {
      const message = libraryFailure(err);
      return renderPage(c, "Library", <LibraryBlocked blocker={{ kind: "error", message }} />, {
        status: 502,
        fragment: <MoreFailed message={message} retryHref={here} />,
      });
    }
    if (!result) return c.notFound();
    const { section, items, total, pages } = result;
    const cards = items.map((m) => card(deps, sectionKey, m));
    const nextHref =
      params.page * LIBRARY_PAGE_SIZE < total ? sectionHref(sectionKey, { ...params, page: params.page + 1 }) : null;
    return renderPage(
      c,
      section.title,
      <SectionPage
        title={section.title}
        sectionHref={`/library/${sectionKey}`}
        query={params.query}
        sort={params.sort}
        sortHref={(sort) => sectionHref(sectionKey, { sort, query: params.query })}
        total={total}
        page={params.page}
        pages={pages}
        cards={cards}
        prevHref={params.page > 1 ? sectionHref(sectionKey, { ...params, page: params.page - 1 }) : null}
        nextHref={nextHref}
      />,
      { fragment: <LibraryCards cards={cards} nextHref={nextHref} /> },
    );
  });

  app.get("/library/:sectionKey/:ratingKey", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const { sectionKey, ratingKey } = c.req.param();
    if (!KEY.test(sectionKey) || !KEY.test(ratingKey)) return c.notFound();
    const viewer = await plexViewer(deps, user);
    if (viewer.kind !== "ready") return blocked(c, blocker(viewer, user));
    let found: Awaited<ReturnType<typeof libraryItem>>;
    try {
      found = await libraryItem(deps, viewer, sectionKey, ratingKey);
    } catch (err) {
      return blocked(c, { kind: "error", message: libraryFailure(err) });
    }
    // Not found and not shared with this viewer look the same: a 404 tells nothing about other people's libraries.
    if (!found) return c.notFound();
    const { section, item, children, parent } = found;
    const key = imageProxyKey(deps);
    const episodes = item.type === "season" || item.type === "album";
    return renderPage(
      c,
      item.title,
      <ItemPage
        item={{
          title: item.type === "season" && parent ? `${parent.title}: ${item.title}` : item.title,
          context: parent ? { title: parent.title, href: `/library/${sectionKey}/${parent.ratingKey}` } : null,
          sectionTitle: section.title,
          sectionHref: `/library/${sectionKey}`,
          typeLabel: item.type === "show" ? "Show" : item.type.charAt(0).toUpperCase() + item.type.slice(1),
          year: item.year,
          duration: item.type === "show" ? null : duration(item.durationMs),
          summary: item.summary || parent?.summary || null,
          genres: item.genres,
          posterUrl: signedPlexImageUrl(key, item.thumb, POSTER.w, POSTER.h),
          backdropUrl: signedPlexImageUrl(key, item.art ?? parent?.art, BACKDROP.w, BACKDROP.h),
          watchUrl: viewer.machineIdentifier ? plexWebUrl(viewer.machineIdentifier, item.ratingKey) : null,
          childrenTitle: episodes ? "Episodes" : item.type === "artist" ? "Albums" : "Seasons",
          children: children.map((m) => card(deps, sectionKey, m)),
        }}
      />,
    );
  });

  return app;
}
