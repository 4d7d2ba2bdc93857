/** A fake Plex Media Server answering the JSON shapes real PMS sends (validated against plex-api-spec.yaml). */
import {
  type Fault,
  FaultQueue,
  type RecordedRequest,
  toXml,
  wantsJson,
  serveFake,
  type PayloadMode,
} from "./http-fake";

/** A wire object as Plex sends it; builders below fill the fields MediaNest and the spec care about. */
export type PlexWire = Record<string, unknown>;

export interface FakePlexServerOptions {
  machineIdentifier: string;
  ownerToken: string;
  /** Tokens of shared users; they can read libraries but not sessions or rescans. */
  userTokens?: string[];
  version?: string;
  /** The server's name (GET / friendlyName); default "Plex Server". */
  friendlyName?: string;
  claimed?: boolean;
  sections?: PlexWire[];
  /**
   * Sections shared with a user's token (token → section keys): that token sees only those sections and their
   * items, as a shared user does on a real server. A token not listed here sees every section.
   */
  shares?: Record<string, string[]>;
  /** Library items; `librarySectionID` ties them to a section. */
  items?: PlexWire[];
  sessions?: PlexWire[];
  /** How long a "timeout" fault holds a request. */
  holdMs?: number;
  /** Rewrite every free-text field of the answers (titles, names, texts), e.g. with script payloads; off by default. */
  payload?: PayloadMode;
}

export interface FakePlexServer {
  url: string;
  machineIdentifier: string;
  requests: RecordedRequest[];
  /** Rescans asked for, in order. */
  refreshes: { sectionKey: string; path: string | undefined }[];
  setSections(sections: PlexWire[]): void;
  setItems(items: PlexWire[]): void;
  addItem(item: PlexWire): void;
  setSessions(sessions: PlexWire[]): void;
  addToken(token: string): void;
  /** Share only these sections with a token (it is added as a user token). */
  share(token: string, sectionKeys: string[]): void;
  /** Answer the next request with a fault instead of the real route. */
  failNext(fault: Fault): void;
  /** Turn the payload mode on (a function) or off (undefined) for the answers from now on. */
  setPayloadMode(mode: PayloadMode | undefined): void;
  stop(): Promise<void>;
}

/** A 1×1 transparent PNG. */
export const TINY_PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

const ADDED_AT = 1_700_000_000;

/** Build a library section as GET /library/sections lists it. */
export function plexSection(overrides: PlexWire & { key: string; type: string; title: string }): PlexWire {
  const { key, type } = overrides;
  return {
    allowSync: true,
    art: `/:/resources/${type}-fanart.jpg`,
    composite: `/library/sections/${key}/composite/${ADDED_AT}`,
    filters: true,
    refreshing: false,
    thumb: `/:/resources/${type}.png`,
    agent:
      type === "show" ? "tv.plex.agents.series" : type === "artist" ? "tv.plex.agents.music" : "tv.plex.agents.movie",
    scanner: type === "show" ? "Plex TV Series" : type === "artist" ? "Plex Music" : "Plex Movie",
    language: "en-US",
    uuid: `0a1b2c3d-0000-4000-8000-00000000000${key}`,
    updatedAt: ADDED_AT,
    createdAt: ADDED_AT - 86_400,
    scannedAt: ADDED_AT,
    content: true,
    directory: true,
    contentChangedAt: 3_192_854,
    // Real servers send 0/1 here; plex-api-spec.yaml says boolean (see test/fakes/fakes.test.ts).
    hidden: 0,
    Location: [{ id: Number(key), path: `/data/${type === "show" ? "tv" : `${type}s`}` }],
    ...overrides,
  };
}

/** Build a movie as library lists and /library/metadata send it. */
export function plexMovie(overrides: PlexWire & { ratingKey: string; title: string }): PlexWire {
  const { ratingKey } = overrides;
  return {
    key: `/library/metadata/${ratingKey}`,
    guid: `plex://movie/5d7768ba96b655001fdc0${ratingKey}`,
    studio: "Legendary Pictures",
    type: "movie",
    librarySectionTitle: "Movies",
    librarySectionID: 1,
    librarySectionKey: "/library/sections/1",
    contentRating: "PG-13",
    summary: "A thief who steals corporate secrets through dream-sharing.",
    rating: 8.7,
    audienceRating: 9.1,
    year: 2010,
    tagline: "Your mind is the scene of the crime.",
    thumb: `/library/metadata/${ratingKey}/thumb/${ADDED_AT}`,
    art: `/library/metadata/${ratingKey}/art/${ADDED_AT}`,
    duration: 8_880_000,
    originallyAvailableAt: "2010-07-15",
    addedAt: ADDED_AT,
    updatedAt: ADDED_AT + 100,
    audienceRatingImage: "rottentomatoes://image.rating.upright",
    ratingImage: "rottentomatoes://image.rating.ripe",
    Media: [media(ratingKey, `/data/movies/${String(overrides.title)}/${String(overrides.title)}.mkv`, 8_880_000)],
    Genre: [{ tag: "Action" }, { tag: "Science Fiction" }],
    Country: [{ tag: "United States of America" }],
    Director: [{ tag: "Christopher Nolan" }],
    Role: [{ tag: "Leonardo DiCaprio" }],
    Guid: [{ id: "imdb://tt1375666" }, { id: "tmdb://27205" }, { id: "tvdb://525" }],
    ...overrides,
  };
}

/** Build an episode as library lists and /library/metadata send it. */
export function plexEpisode(
  overrides: PlexWire & { ratingKey: string; title: string; grandparentTitle: string },
): PlexWire {
  const { ratingKey } = overrides;
  const index = typeof overrides.index === "number" ? overrides.index : 1;
  const parentIndex = typeof overrides.parentIndex === "number" ? overrides.parentIndex : 1;
  return {
    key: `/library/metadata/${ratingKey}`,
    parentRatingKey: "900",
    grandparentRatingKey: "800",
    guid: `plex://episode/5d9c1275e98e47001eb8${ratingKey}`,
    parentGuid: "plex://season/602e67d31d3358002c411c39",
    grandparentGuid: "plex://show/5d9c081b170e24001f2a7be4",
    type: "episode",
    parentTitle: `Season ${parentIndex}`,
    librarySectionTitle: "TV Shows",
    librarySectionID: 2,
    librarySectionKey: "/library/sections/2",
    grandparentKey: "/library/metadata/800",
    parentKey: "/library/metadata/900",
    contentRating: "TV-14",
    summary: "An episode.",
    index,
    parentIndex,
    year: 2008,
    thumb: `/library/metadata/${ratingKey}/thumb/${ADDED_AT}`,
    art: `/library/metadata/800/art/${ADDED_AT}`,
    parentThumb: `/library/metadata/900/thumb/${ADDED_AT}`,
    grandparentThumb: `/library/metadata/800/thumb/${ADDED_AT}`,
    grandparentArt: `/library/metadata/800/art/${ADDED_AT}`,
    duration: 2_820_000,
    originallyAvailableAt: "2008-01-20",
    addedAt: ADDED_AT,
    updatedAt: ADDED_AT + 100,
    Media: [media(ratingKey, `/data/tv/${String(overrides.grandparentTitle)}/S01E0${index}.mkv`, 2_820_000)],
    Guid: [{ id: "imdb://tt0959621" }, { id: "tmdb://62085" }, { id: "tvdb://349232" }],
    ...overrides,
  };
}

/** Build a show as section listings and /library/metadata send it. */
export function plexShow(overrides: PlexWire & { ratingKey: string; title: string }): PlexWire {
  const { ratingKey } = overrides;
  return {
    key: `/library/metadata/${ratingKey}/children`,
    guid: `plex://show/5d9c081b170e24001f2a${ratingKey}`,
    studio: "High Bridge Productions",
    type: "show",
    librarySectionTitle: "TV Shows",
    librarySectionID: 2,
    librarySectionKey: "/library/sections/2",
    contentRating: "TV-MA",
    summary: "A chemistry teacher turns to crime.",
    index: 1,
    year: 2008,
    thumb: `/library/metadata/${ratingKey}/thumb/${ADDED_AT}`,
    art: `/library/metadata/${ratingKey}/art/${ADDED_AT}`,
    duration: 2_820_000,
    originallyAvailableAt: "2008-01-20",
    leafCount: 2,
    viewedLeafCount: 0,
    childCount: 1,
    addedAt: ADDED_AT,
    updatedAt: ADDED_AT + 100,
    Genre: [{ tag: "Drama" }, { tag: "Crime" }],
    Guid: [{ id: "imdb://tt0903747" }, { id: "tmdb://1396" }, { id: "tvdb://81189" }],
    ...overrides,
  };
}

/** Build a season as a show's children list it. */
export function plexSeason(
  overrides: PlexWire & { ratingKey: string; parentRatingKey: string; parentTitle: string; index: number },
): PlexWire {
  const { ratingKey, parentRatingKey } = overrides;
  return {
    key: `/library/metadata/${ratingKey}/children`,
    parentKey: `/library/metadata/${parentRatingKey}`,
    guid: `plex://season/602e67d31d3358002c41${ratingKey}`,
    type: "season",
    title: `Season ${overrides.index}`,
    librarySectionTitle: "TV Shows",
    librarySectionID: 2,
    librarySectionKey: "/library/sections/2",
    summary: "",
    thumb: `/library/metadata/${ratingKey}/thumb/${ADDED_AT}`,
    art: `/library/metadata/${parentRatingKey}/art/${ADDED_AT}`,
    parentThumb: `/library/metadata/${parentRatingKey}/thumb/${ADDED_AT}`,
    leafCount: 2,
    viewedLeafCount: 0,
    addedAt: ADDED_AT,
    updatedAt: ADDED_AT + 100,
    ...overrides,
  };
}

/** Build a playback of /status/sessions around an item. */
export function plexSession(
  item: PlexWire,
  opts: {
    sessionKey?: string;
    user?: { id: string; title: string };
    state?: "playing" | "paused" | "buffering";
    product?: string;
    playerTitle?: string;
    viewOffset?: number;
    /** Decisions of a transcode session; omit for direct play. */
    transcode?: { videoDecision: "transcode" | "copy"; audioDecision: "transcode" | "copy" };
  } = {},
): PlexWire {
  const user = opts.user ?? { id: "1", title: "owner" };
  const session: PlexWire = {
    ...item,
    sessionKey: opts.sessionKey ?? "12",
    viewOffset: opts.viewOffset ?? 600_000,
    User: { id: user.id, thumb: `https://plex.tv/users/${user.id}/avatar?c=1`, title: user.title },
    Player: {
      address: "192.168.1.50",
      machineIdentifier: `player-${opts.sessionKey ?? "12"}`,
      model: "bundled",
      platform: "Chrome",
      platformVersion: "131.0",
      product: opts.product ?? "Plex Web",
      profile: "Web",
      remotePublicAddress: "203.0.113.9",
      state: opts.state ?? "playing",
      title: opts.playerTitle ?? "Chrome",
      vendor: "",
      version: "4.145.1",
      local: true,
      relayed: false,
      secure: true,
      userID: Number(user.id),
    },
    Session: { id: `sess-${opts.sessionKey ?? "12"}`, bandwidth: 10_000, location: "lan" },
  };
  if (opts.transcode) {
    session.TranscodeSession = {
      key: `/transcode/sessions/tx-${opts.sessionKey ?? "12"}`,
      throttled: false,
      complete: false,
      progress: 12.5,
      size: -22,
      speed: 3.1,
      error: false,
      duration: item.duration,
      remaining: 30,
      context: "streaming",
      sourceVideoCodec: "hevc",
      sourceAudioCodec: "eac3",
      videoDecision: opts.transcode.videoDecision,
      audioDecision: opts.transcode.audioDecision,
      protocol: "dash",
      container: "mp4",
      videoCodec: "h264",
      audioCodec: "aac",
      audioChannels: 2,
      transcodeHwRequested: true,
      transcodeHwFullPipeline: false,
      timeStamp: ADDED_AT + 0.5,
    };
  }
  return session;
}

function media(ratingKey: string, file: string, duration: number): PlexWire {
  const id = Number(ratingKey) * 10;
  return {
    id,
    duration,
    bitrate: 10_617,
    width: 1920,
    height: 1080,
    aspectRatio: 1.78,
    audioChannels: 6,
    audioCodec: "eac3",
    videoCodec: "hevc",
    videoResolution: "1080",
    container: "mkv",
    videoFrameRate: "24p",
    videoProfile: "main 10",
    Part: [
      {
        id: id + 1,
        key: `/library/parts/${id + 1}/${ADDED_AT}/file.mkv`,
        duration,
        file,
        size: 11_785_000_000,
        container: "mkv",
        videoProfile: "main 10",
      },
    ],
  };
}

/** Start a fake Plex Media Server on a random port. */
export function startFakePlexServer(opts: FakePlexServerOptions): FakePlexServer {
  let payloadMode: PayloadMode | undefined = opts.payload;
  const requests: RecordedRequest[] = [];
  const refreshes: { sectionKey: string; path: string | undefined }[] = [];
  const tokens = new Set([opts.ownerToken, ...(opts.userTokens ?? []), ...Object.keys(opts.shares ?? {})]);
  const shares = new Map(Object.entries(opts.shares ?? {}));
  let sections = opts.sections ?? [
    plexSection({ key: "1", type: "movie", title: "Movies" }),
    plexSection({ key: "2", type: "show", title: "TV Shows" }),
  ];
  let items = opts.items ?? [];
  let sessions = opts.sessions ?? [];
  const faults = new FaultQueue((status) => htmlError(status), opts.holdMs);

  function container(req: RecordedRequest, mc: PlexWire): Response {
    if (!wantsJson(req)) {
      // Real PMS answers XML unless the client asks for JSON.
      return new Response(toXml("MediaContainer", mc), { headers: { "content-type": "text/xml;charset=utf-8" } });
    }
    return Response.json({ MediaContainer: mc });
  }

  function paged(req: RecordedRequest, list: PlexWire[], extra: PlexWire): Response {
    const start = Number(req.query["X-Plex-Container-Start"] ?? req.headers["x-plex-container-start"] ?? 0);
    const sizeParam = req.query["X-Plex-Container-Size"] ?? req.headers["x-plex-container-size"];
    const size = sizeParam === undefined ? list.length : Number(sizeParam);
    const withGuids = req.query.includeGuids === "1";
    // Lists carry the Guid array only when asked for with includeGuids=1, like real PMS.
    const page = list.slice(start, start + size).map((m) => (withGuids ? m : withoutGuids(m)));
    return container(req, { size: page.length, totalSize: list.length, offset: start, ...extra, Metadata: page });
  }

  function route(req: RecordedRequest): Response {
    const { method, path } = req;
    if (method === "GET" && path === "/identity") {
      return container(req, {
        size: 0,
        apiVersion: "1.1.1",
        claimed: opts.claimed ?? true,
        machineIdentifier: opts.machineIdentifier,
        version: opts.version ?? "1.41.3.9314-a0bfb8370",
      });
    }
    const token = req.headers["x-plex-token"] ?? req.query["X-Plex-Token"];
    if (token === undefined || !tokens.has(token)) return htmlError(401);
    const isOwner = token === opts.ownerToken;
    const shared = shares.get(token);
    const sees = (sectionKey: unknown) => shared === undefined || shared.includes(String(sectionKey));
    const visibleSections = sections.filter((s) => sees(s.key));
    const visibleItems = items.filter((m) => sees(m.librarySectionID));

    if (method === "GET" && path === "/") {
      return container(req, {
        size: 0,
        allowCameraUpload: false,
        allowSync: true,
        claimed: opts.claimed ?? true,
        friendlyName: opts.friendlyName ?? "Plex Server",
        machineIdentifier: opts.machineIdentifier,
        myPlex: true,
        platform: "Linux",
        transcoderActiveVideoSessions: 0,
        updatedAt: ADDED_AT,
        version: opts.version ?? "1.41.3.9314-a0bfb8370",
      });
    }

    if (method === "GET" && path === "/library/sections") {
      return container(req, {
        size: visibleSections.length,
        allowSync: false,
        title1: "Plex Library",
        Directory: visibleSections,
      });
    }
    if (method === "GET" && path === "/library/recentlyAdded") {
      const newest = [...visibleItems].sort((a, b) => Number(b.addedAt ?? 0) - Number(a.addedAt ?? 0));
      return paged(req, newest, {
        allowSync: false,
        identifier: "com.plexapp.plugins.library",
        mediaTagPrefix: "/system/bundle/media/flags/",
        mediaTagVersion: ADDED_AT,
        mixedParents: true,
      });
    }
    const all = /^\/library\/sections\/([^/]+)\/all$/.exec(path);
    if (method === "GET" && all) {
      // What real PMS answers a shared user for a section not shared with them is not in the spec; 404 here.
      const section = visibleSections.find((s) => s.key === all[1]);
      if (!section) return htmlError(404);
      const title = req.query.title?.toLowerCase();
      const inSection = sorted(
        visibleItems.filter(
          (m) =>
            String(m.librarySectionID) === all[1] &&
            // A section lists its top level (a show section its shows), like PMS without a type parameter.
            (m.type === section.type || !["movie", "show", "artist"].includes(String(section.type))) &&
            (!title || String(m.title).toLowerCase().includes(title)),
        ),
        req.query.sort,
      );
      return paged(req, inSection, {
        allowSync: true,
        art: section.art,
        identifier: "com.plexapp.plugins.library",
        librarySectionID: Number(all[1]),
        librarySectionTitle: section.title,
        librarySectionUUID: section.uuid,
        mediaTagPrefix: "/system/bundle/media/flags/",
        mediaTagVersion: ADDED_AT,
        thumb: section.thumb,
        title1: section.title,
        title2: "All",
        viewGroup: section.type === "show" ? "show" : "movie",
      });
    }
    const refresh = /^\/library\/sections\/([^/]+)\/refresh$/.exec(path);
    if ((method === "GET" || method === "POST") && refresh?.[1]) {
      if (!isOwner) return htmlError(401);
      if (!sections.some((s) => s.key === refresh[1])) return htmlError(404);
      refreshes.push({ sectionKey: refresh[1], path: req.query.path });
      return new Response(null, { status: 200 });
    }
    if (method === "GET" && path === "/status/sessions") {
      if (!isOwner) return htmlError(401);
      return container(req, { size: sessions.length, Metadata: sessions });
    }
    const image = /^\/library\/metadata\/[^/]+\/(thumb|art|banner|clearLogo)\/\d+$/.test(path);
    if (method === "GET" && (image || path === "/photo/:/transcode" || path.startsWith("/:/resources/"))) {
      return new Response(TINY_PNG, { headers: { "content-type": "image/png" } });
    }
    const children = /^\/library\/metadata\/([^/]+)\/children$/.exec(path);
    if (method === "GET" && children) {
      const parent = visibleItems.find((m) => m.ratingKey === children[1]);
      if (!parent) return htmlError(404);
      const list = visibleItems
        .filter((m) => m.parentRatingKey === children[1])
        .sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
      return container(req, {
        size: list.length,
        allowSync: true,
        art: parent.art,
        identifier: "com.plexapp.plugins.library",
        key: parent.ratingKey,
        librarySectionID: parent.librarySectionID,
        librarySectionTitle: parent.librarySectionTitle,
        mediaTagPrefix: "/system/bundle/media/flags/",
        mediaTagVersion: ADDED_AT,
        title1: parent.title,
        viewGroup: parent.type === "show" ? "season" : "episode",
        Metadata: list,
      });
    }
    const metadata = /^\/library\/metadata\/([^/]+)$/.exec(path);
    if (method === "GET" && metadata) {
      const item = visibleItems.find((m) => m.ratingKey === metadata[1]);
      if (!item) return htmlError(404);
      return container(req, {
        size: 1,
        allowSync: true,
        identifier: "com.plexapp.plugins.library",
        librarySectionID: item.librarySectionID,
        librarySectionTitle: item.librarySectionTitle,
        mediaTagPrefix: "/system/bundle/media/flags/",
        mediaTagVersion: ADDED_AT,
        Metadata: [item],
      });
    }
    return htmlError(404);
  }

  const server = serveFake(requests, faults, route, () => payloadMode);

  return {
    url: `http://127.0.0.1:${server.port}`,
    machineIdentifier: opts.machineIdentifier,
    requests,
    refreshes,
    setSections(next) {
      sections = next;
    },
    setItems(next) {
      items = next;
    },
    addItem(item) {
      items = [...items, item];
    },
    setSessions(next) {
      sessions = next;
    },
    addToken(token) {
      tokens.add(token);
    },
    share(token, sectionKeys) {
      tokens.add(token);
      shares.set(token, sectionKeys);
    },
    setPayloadMode(mode) {
      payloadMode = mode;
    },
    failNext(fault) {
      faults.push(fault);
    },
    async stop() {
      faults.releaseAll();
      await server.stop(true);
    },
  };
}

/** Order items as `sort=field[:desc],…` asks (titleSort, title, addedAt, year). */
function sorted(list: PlexWire[], sort: string | undefined): PlexWire[] {
  if (!sort) return list;
  const keys = sort.split(",").map((part) => {
    const [field = "", dir] = part.split(":");
    return { field: field === "titleSort" ? "title" : field, desc: dir === "desc" };
  });
  return [...list].sort((a, b) => {
    for (const { field, desc } of keys) {
      const x = a[field] ?? "";
      const y = b[field] ?? "";
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      if (order !== 0) return desc ? -order : order;
    }
    return 0;
  });
}

function withoutGuids(m: PlexWire): PlexWire {
  const { Guid: _dropped, ...rest } = m;
  return rest;
}

/** Answer like PMS does for errors: a tiny HTML page. */
function htmlError(status: number): Response {
  const text = status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : "Error";
  return new Response(`<html><head><title>${text}</title></head><body><h1>${status} ${text}</h1></body></html>`, {
    status,
    headers: { "content-type": "text/html" },
  });
}
