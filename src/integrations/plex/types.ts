/** Plex Media Server remote shapes (zod, lenient) and the domain types the rest of MediaNest sees. */
import { z } from "zod";

// Remote shapes: only the fields we read are declared; unknown fields pass through. `key`/`ratingKey` are
// strings on the wire, but numbers are accepted and turned into strings so an old server cannot break parsing.

const idString = z.union([z.string(), z.number()]).transform(String);

/** Parse GET /identity. */
export const remoteIdentitySchema = z.looseObject({
  MediaContainer: z.looseObject({
    machineIdentifier: z.string(),
    version: z.string(),
    claimed: z.boolean().nullish(),
  }),
});

/** Parse GET / (the server's own description; needs a token). */
export const remoteServerInfoSchema = z.looseObject({
  MediaContainer: z.looseObject({
    friendlyName: z.string().nullish(),
    machineIdentifier: z.string(),
    version: z.string(),
  }),
});

/** Parse one library section of GET /library/sections. */
export const remoteSectionSchema = z.looseObject({
  key: idString,
  type: z.string(),
  title: z.string(),
  agent: z.string().nullish(),
  refreshing: z.boolean().nullish(),
  scannedAt: z.number().nullish(),
  Location: z.array(z.looseObject({ id: z.number().nullish(), path: z.string() })).nullish(),
});

/** Parse GET /library/sections. */
export const remoteSectionsSchema = z.looseObject({
  MediaContainer: z.looseObject({ Directory: z.array(remoteSectionSchema).nullish() }),
});

/** Parse one metadata item (movie, show, season, episode, track, ...). */
export const remoteMetadataSchema = z.looseObject({
  ratingKey: idString,
  key: z.string(),
  guid: z.string().nullish(),
  type: z.string(),
  title: z.string(),
  year: z.number().nullish(),
  summary: z.string().nullish(),
  thumb: z.string().nullish(),
  art: z.string().nullish(),
  addedAt: z.number().nullish(),
  duration: z.number().nullish(),
  viewOffset: z.number().nullish(),
  parentTitle: z.string().nullish(),
  grandparentTitle: z.string().nullish(),
  grandparentThumb: z.string().nullish(),
  index: z.number().nullish(),
  parentIndex: z.number().nullish(),
  librarySectionID: idString.nullish(),
  parentRatingKey: idString.nullish(),
  childCount: z.number().nullish(),
  leafCount: z.number().nullish(),
  Genre: z.array(z.looseObject({ tag: z.string() })).nullish(),
  Guid: z.array(z.looseObject({ id: z.string() })).nullish(),
  Media: z.array(z.looseObject({ Part: z.array(z.looseObject({ file: z.string().nullish() })).nullish() })).nullish(),
});
export type RemoteMetadata = z.infer<typeof remoteMetadataSchema>;

/** Parse a MediaContainer of metadata items (recently added, section contents, one item). */
export const remoteMetadataListSchema = z.looseObject({
  MediaContainer: z.looseObject({
    size: z.number().nullish(),
    totalSize: z.number().nullish(),
    Metadata: z.array(remoteMetadataSchema).nullish(),
  }),
});

/** Parse one playback of GET /status/sessions. */
export const remoteSessionSchema = remoteMetadataSchema.extend({
  sessionKey: idString.nullish(),
  User: z.looseObject({ id: idString.nullish(), title: z.string().nullish(), thumb: z.string().nullish() }).nullish(),
  Player: z
    .looseObject({
      state: z.string().nullish(),
      product: z.string().nullish(),
      title: z.string().nullish(),
      platform: z.string().nullish(),
      local: z.boolean().nullish(),
    })
    .nullish(),
  Session: z.looseObject({ id: z.string().nullish(), location: z.string().nullish() }).nullish(),
  TranscodeSession: z
    .looseObject({ videoDecision: z.string().nullish(), audioDecision: z.string().nullish() })
    .nullish(),
});
export type RemoteSession = z.infer<typeof remoteSessionSchema>;

/** Parse GET /status/sessions. */
export const remoteSessionsSchema = z.looseObject({
  MediaContainer: z.looseObject({ Metadata: z.array(remoteSessionSchema).nullish() }),
});

// Domain types.

/** Who the server is. */
export interface PlexIdentity {
  machineIdentifier: string;
  version: string;
  claimed: boolean;
}

/** What GET / says about the server: its name as the owner set it, id and version. */
export interface PlexServerInfo {
  name: string;
  machineIdentifier: string;
  version: string;
}

/** Library section kinds; anything Plex adds later is "other". */
export type PlexSectionType = "movie" | "show" | "artist" | "photo" | "other";

/** A library section and the folders it scans. */
export interface PlexSection {
  key: string;
  type: PlexSectionType;
  title: string;
  locations: string[];
}

/** Ids of an item in other databases, from `Guid[]` (tmdb://, imdb://, tvdb://). */
export interface PlexExternalIds {
  tmdb?: string;
  imdb?: string;
  tvdb?: string;
}

/** A library item. Image paths are server paths that need the token: serve them through the image proxy. */
export interface PlexItem {
  ratingKey: string;
  key: string;
  guid: string | null;
  /** movie, show, season, episode, artist, album, track, photo, clip, ... */
  type: string;
  title: string;
  year: number | null;
  summary: string | null;
  thumb: string | null;
  art: string | null;
  addedAt: Date | null;
  durationMs: number | null;
  parentTitle: string | null;
  grandparentTitle: string | null;
  index: number | null;
  parentIndex: number | null;
  sectionKey: string | null;
  /** The season of an episode, the show of a season. */
  parentRatingKey: string | null;
  /** A show's seasons, a season's episodes. */
  childCount: number | null;
  /** A show's or season's episodes. */
  leafCount: number | null;
  genres: string[];
  externalIds: PlexExternalIds;
  /** The files of its media parts, as the server sees them (lists carry them for movies, episodes and clips). */
  files: string[];
}

/** How a section's items can be ordered: by title, newest first, or by year, newest first. */
export type PlexSort = "title" | "added" | "year";

/** One page of a section's items and how many there are in all. */
export interface PlexPage {
  items: PlexItem[];
  total: number;
}

export type PlexPlayerState = "playing" | "paused" | "buffering" | "unknown";

/** One playback in progress. */
export interface PlexNowPlaying {
  sessionKey: string | null;
  user: { id: string | null; title: string; thumb: string | null };
  player: {
    state: PlexPlayerState;
    product: string | null;
    title: string | null;
    platform: string | null;
    local: boolean;
  };
  /** True when Plex converts the video or audio; direct play and direct stream are false. */
  transcoding: boolean;
  location: "lan" | "wan" | null;
  item: {
    ratingKey: string;
    type: string;
    title: string;
    grandparentTitle: string | null;
    parentTitle: string | null;
    thumb: string | null;
  };
  progress: { viewOffsetMs: number; durationMs: number | null };
}
