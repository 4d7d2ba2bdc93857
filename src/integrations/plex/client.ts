/** Plex Media Server client: identity, libraries, recently added, now playing, rescans and images. */
import { IntegrationError, type IntegrationObserver, requestEmpty, requestJson, requestRaw } from "../http";
import {
  type PlexExternalIds,
  type PlexIdentity,
  type PlexItem,
  type PlexPage,
  type PlexSort,
  type PlexNowPlaying,
  type PlexPlayerState,
  type PlexSection,
  type PlexSectionType,
  type PlexServerInfo,
  type RemoteMetadata,
  type RemoteSession,
  remoteIdentitySchema,
  remoteMetadataListSchema,
  remoteSectionsSchema,
  remoteServerInfoSchema,
  remoteSessionsSchema,
} from "./types";

const SERVICE = "plex";
const DISPLAY_NAME = "Plex";

export interface PlexClientOptions {
  /** e.g. http://192.168.1.10:32400 or https://plex.example.com/some/prefix */
  baseUrl: string;
  /** The owner's (or a user's) token on this server. */
  token: string;
  clientIdentifier: string;
  product?: string;
  version?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  observer?: IntegrationObserver;
}

export interface PlexClient {
  /** Read who the server is (works without a valid token). */
  getIdentity(): Promise<PlexIdentity>;
  /** Read the server's name, id and version (needs the token). */
  getServerInfo(): Promise<PlexServerInfo>;
  /** List the library sections and their folders. */
  listSections(): Promise<PlexSection[]>;
  /** List the newest items across all libraries, newest first. */
  listRecentlyAdded(limit: number): Promise<PlexItem[]>;
  /** List the items of one section, a page at a time. */
  listSectionItems(sectionKey: string, page?: { start?: number; size?: number }): Promise<PlexItem[]>;
  /** Read one page of a section's items in an order, optionally only titles containing `title`, with the total. */
  browseSection(
    sectionKey: string,
    opts: { start: number; size: number; sort: PlexSort; title?: string | undefined },
  ): Promise<PlexPage>;
  /** List an item's children (a show's seasons, a season's episodes); undefined when the server does not know it. */
  listChildren(ratingKey: string): Promise<PlexItem[] | undefined>;
  /** List the playbacks in progress (needs the owner's token). */
  listSessions(): Promise<PlexNowPlaying[]>;
  /** Ask the server to rescan a section, or only one folder of it. */
  refreshSection(sectionKey: string, path?: string): Promise<void>;
  /** Read one item; undefined when the server does not know it. */
  getMetadata(ratingKey: string): Promise<PlexItem | undefined>;
  /**
   * Fetch an image (a `thumb`/`art` path from an item) with the token, optionally resized by the server, and
   * return the unread Response for a proxy to stream; the caller must consume or cancel its body.
   */
  fetchImage(path: string, size?: { width: number; height: number }): Promise<Response>;
}

/** Create a client for one Plex Media Server. */
export function createPlexClient(opts: PlexClientOptions): PlexClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");

  function headers(accept = "application/json"): Record<string, string> {
    return {
      Accept: accept,
      "X-Plex-Token": opts.token,
      "X-Plex-Client-Identifier": opts.clientIdentifier,
      "X-Plex-Product": opts.product ?? "MediaNest",
      ...(opts.version ? { "X-Plex-Version": opts.version } : {}),
    };
  }

  function common() {
    return {
      service: SERVICE,
      displayName: DISPLAY_NAME,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.observer ? { observer: opts.observer } : {}),
    };
  }

  function url(path: string, query?: Record<string, string | number | undefined>): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    // URLSearchParams writes spaces as "+"; Plex decodes both, but %20 is what its own clients send.
    const qs = params.toString().replace(/\+/g, "%20");
    return `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  // Lists carry Guid[] (tmdb/imdb/tvdb ids) only with includeGuids=1; single items always do.
  async function listItems(path: string, query?: Record<string, string | number | undefined>): Promise<PlexItem[]> {
    const body = await requestJson({
      ...common(),
      url: url(path, query),
      headers: headers(),
      schema: remoteMetadataListSchema,
    });
    return (body.MediaContainer.Metadata ?? []).map(toItem);
  }

  return {
    async browseSection(sectionKey, page) {
      const body = await requestJson({
        ...common(),
        url: url(`/library/sections/${encodeURIComponent(sectionKey)}/all`, {
          includeGuids: 1,
          sort: SORTS[page.sort],
          title: page.title || undefined,
          "X-Plex-Container-Start": page.start,
          "X-Plex-Container-Size": page.size,
        }),
        headers: headers(),
        schema: remoteMetadataListSchema,
      });
      const items = (body.MediaContainer.Metadata ?? []).map(toItem);
      return { items, total: body.MediaContainer.totalSize ?? page.start + items.length };
    },

    async listChildren(ratingKey) {
      try {
        return await listItems(`/library/metadata/${encodeURIComponent(ratingKey)}/children`);
      } catch (err) {
        if (err instanceof IntegrationError && err.status === 404) return undefined;
        throw err;
      }
    },

    async getIdentity() {
      const body = await requestJson({
        ...common(),
        url: url("/identity"),
        headers: headers(),
        schema: remoteIdentitySchema,
      });
      const mc = body.MediaContainer;
      return { machineIdentifier: mc.machineIdentifier, version: mc.version, claimed: mc.claimed ?? false };
    },

    async getServerInfo() {
      const body = await requestJson({
        ...common(),
        url: url("/"),
        headers: headers(),
        schema: remoteServerInfoSchema,
      });
      const mc = body.MediaContainer;
      return {
        name: mc.friendlyName || "Plex Media Server",
        machineIdentifier: mc.machineIdentifier,
        version: mc.version,
      };
    },

    async listSections() {
      const body = await requestJson({
        ...common(),
        url: url("/library/sections"),
        headers: headers(),
        schema: remoteSectionsSchema,
      });
      return (body.MediaContainer.Directory ?? []).map((d) => ({
        key: d.key,
        type: sectionType(d.type),
        title: d.title,
        locations: (d.Location ?? []).map((l) => l.path),
      }));
    },

    listRecentlyAdded(limit) {
      return listItems("/library/recentlyAdded", {
        includeGuids: 1,
        "X-Plex-Container-Start": 0,
        "X-Plex-Container-Size": limit,
      });
    },

    listSectionItems(sectionKey, page) {
      return listItems(`/library/sections/${encodeURIComponent(sectionKey)}/all`, {
        includeGuids: 1,
        "X-Plex-Container-Start": page?.start ?? 0,
        "X-Plex-Container-Size": page?.size ?? 50,
      });
    },

    async listSessions() {
      const body = await requestJson({
        ...common(),
        url: url("/status/sessions"),
        headers: headers(),
        schema: remoteSessionsSchema,
      });
      return (body.MediaContainer.Metadata ?? []).map(toNowPlaying);
    },

    async refreshSection(sectionKey, path) {
      await requestEmpty({
        ...common(),
        url: url(`/library/sections/${encodeURIComponent(sectionKey)}/refresh`, { path }),
        headers: headers(),
      });
    },

    async getMetadata(ratingKey) {
      try {
        const items = await listItems(`/library/metadata/${encodeURIComponent(ratingKey)}`);
        return items[0];
      } catch (err) {
        if (err instanceof IntegrationError && err.status === 404) return undefined;
        throw err;
      }
    },

    async fetchImage(path, size) {
      if (!isImagePath(path)) {
        throw new Error(`plex: refusing to fetch an image from ${JSON.stringify(path)}`);
      }
      const target = size
        ? url("/photo/:/transcode", { url: path, width: size.width, height: size.height, minSize: 1, upscale: 1 })
        : `${baseUrl}${path}`;
      const res = await requestRaw({ ...common(), url: target, headers: headers("image/*") });
      // The proxy runs with the owner's token: never hand anything but an image back to a browser.
      if (!(res.headers.get("content-type") ?? "").startsWith("image/")) {
        await res.body?.cancel().catch(() => {});
        throw new IntegrationError({
          service: SERVICE,
          kind: "bad_response",
          message: `${DISPLAY_NAME} answered something that is not an image`,
          status: res.status,
        });
      }
      return res;
    },
  };
}

// Plex's sort fields: titleSort ignores leading articles the way Plex's own apps sort.
const SORTS: Record<PlexSort, string> = {
  title: "titleSort",
  added: "addedAt:desc",
  year: "year:desc,titleSort",
};

/**
 * Accept only server-relative library and resource image paths: an absolute URL would send the token to another
 * host, and other server paths (preferences, accounts) must not be reachable through the image proxy.
 */
function isImagePath(path: string): boolean {
  if (!/^\/(library\/|:\/resources\/)/.test(path)) return false;
  const pathOnly = path.split("?")[0] ?? "";
  return !/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(pathOnly) && !path.includes("\\") && !path.includes("://");
}

function sectionType(type: string): PlexSectionType {
  return type === "movie" || type === "show" || type === "artist" || type === "photo" ? type : "other";
}

function playerState(state: string | null | undefined): PlexPlayerState {
  return state === "playing" || state === "paused" || state === "buffering" ? state : "unknown";
}

function externalIds(guids: RemoteMetadata["Guid"]): PlexExternalIds {
  const ids: PlexExternalIds = {};
  for (const { id } of guids ?? []) {
    const match = /^(tmdb|imdb|tvdb):\/\/(.+)$/.exec(id);
    if (match?.[1] && match[2]) ids[match[1] as keyof PlexExternalIds] = match[2];
  }
  return ids;
}

function toItem(m: RemoteMetadata): PlexItem {
  return {
    ratingKey: m.ratingKey,
    key: m.key,
    guid: m.guid ?? null,
    type: m.type,
    title: m.title,
    year: m.year ?? null,
    summary: m.summary ?? null,
    thumb: m.thumb ?? null,
    art: m.art ?? null,
    addedAt: m.addedAt == null ? null : new Date(m.addedAt * 1000),
    durationMs: m.duration ?? null,
    parentTitle: m.parentTitle ?? null,
    grandparentTitle: m.grandparentTitle ?? null,
    index: m.index ?? null,
    parentIndex: m.parentIndex ?? null,
    sectionKey: m.librarySectionID ?? null,
    parentRatingKey: m.parentRatingKey ?? null,
    childCount: m.childCount ?? null,
    leafCount: m.leafCount ?? null,
    genres: (m.Genre ?? []).map((g) => g.tag),
    externalIds: externalIds(m.Guid),
    files: (m.Media ?? []).flatMap((media) => (media.Part ?? []).flatMap((part) => (part.file ? [part.file] : []))),
  };
}

function toNowPlaying(s: RemoteSession): PlexNowPlaying {
  const decisions = [s.TranscodeSession?.videoDecision, s.TranscodeSession?.audioDecision];
  const knowsDecisions = decisions.some((d) => d != null);
  const location = s.Session?.location;
  return {
    sessionKey: s.sessionKey ?? null,
    user: { id: s.User?.id ?? null, title: s.User?.title ?? "", thumb: s.User?.thumb ?? null },
    player: {
      state: playerState(s.Player?.state),
      product: s.Player?.product ?? null,
      title: s.Player?.title ?? null,
      platform: s.Player?.platform ?? null,
      local: s.Player?.local ?? false,
    },
    // A TranscodeSession also exists for direct stream (decision "copy"); only "transcode" converts.
    transcoding: s.TranscodeSession == null ? false : knowsDecisions ? decisions.includes("transcode") : true,
    location: location === "lan" || location === "wan" ? location : null,
    item: {
      ratingKey: s.ratingKey,
      type: s.type,
      title: s.title,
      grandparentTitle: s.grandparentTitle ?? null,
      parentTitle: s.parentTitle ?? null,
      thumb: s.thumb ?? null,
    },
    progress: { viewOffsetMs: s.viewOffset ?? 0, durationMs: s.duration ?? null },
  };
}
