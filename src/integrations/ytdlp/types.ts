/** yt-dlp's JSON shapes (`-J`, the progress template, the after-move print) and the domain types MediaNest uses. */
import { z } from "zod";

// Remote shapes: only the fields we read, each lenient (yt-dlp leaves most of them null or absent for sites it
// knows little about, such as the generic extractor). See ../shared/specs/README.md, "yt-dlp".

const text = z.string().nullish().catch(null);
const num = z.number().nullish().catch(null);

const remoteThumbnailSchema = z.looseObject({ url: z.string(), width: num, height: num, preference: num });

const remoteFormatSchema = z.looseObject({
  format_id: text,
  url: text,
  height: num,
  filesize: num,
  filesize_approx: num,
  vcodec: text,
  acodec: text,
});

/** Parse one entry of a `--flat-playlist` playlist: a url stub (`_type: "url"`) or a fully resolved video. */
export const remoteEntrySchema = z.looseObject({
  _type: text,
  id: z.union([z.string(), z.number()]).transform(String).nullish().catch(null),
  url: text,
  webpage_url: text,
  title: text,
  channel: text,
  uploader: text,
  duration: num,
  thumbnail: text,
  thumbnails: z.array(remoteThumbnailSchema).nullish().catch(null),
  filesize: num,
  filesize_approx: num,
  playlist_index: num,
});
export type RemoteEntry = z.infer<typeof remoteEntrySchema>;

/** Parse the one JSON document `yt-dlp -J --flat-playlist` prints: a video, or a playlist with entries. */
export const remoteInfoSchema = z.looseObject({
  _type: text,
  id: z.union([z.string(), z.number()]).transform(String),
  title: text,
  channel: text,
  uploader: text,
  playlist_uploader: text,
  duration: num,
  thumbnail: text,
  thumbnails: z.array(remoteThumbnailSchema).nullish().catch(null),
  webpage_url: text,
  original_url: text,
  extractor_key: text,
  filesize: num,
  filesize_approx: num,
  formats: z.array(remoteFormatSchema).nullish().catch(null),
  requested_formats: z.array(remoteFormatSchema).nullish().catch(null),
  entries: z.array(z.unknown()).nullish(),
  playlist_count: num,
});
export type RemoteInfo = z.infer<typeof remoteInfoSchema>;

/** Parse one `%(progress)j` line of the download progress template. */
export const remoteProgressSchema = z.looseObject({
  status: z.string(),
  downloaded_bytes: num,
  total_bytes: num,
  total_bytes_estimate: num,
  speed: num,
  eta: num,
  fragment_index: num,
  fragment_count: num,
});

/** Parse the after-move print: the finished file and the metadata its final name is built from. */
export const remoteFinishedSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).nullish().catch(null),
  title: text,
  channel: text,
  uploader: text,
  ext: text,
  filepath: z.string(),
});

/** One video a preview found (the video itself, or one playlist entry). */
export interface PreviewEntry {
  /** Position in the playlist, from 1 (1 for a single video). */
  index: number;
  id: string;
  title: string;
  channel: string | null;
  durationSeconds: number | null;
  thumbnailUrl: string | null;
  /** The entry's own page when yt-dlp gave one; null when it is reachable only as an item of the playlist. */
  url: string | null;
  sizeBytes: number | null;
}

/** What `yt-dlp -J` said about a link, as pages show it. */
export interface Preview {
  kind: "video" | "playlist";
  id: string;
  title: string;
  channel: string | null;
  durationSeconds: number | null;
  thumbnailUrl: string | null;
  /** The canonical page yt-dlp resolved the link to. */
  webpageUrl: string;
  /** Sum of the known sizes (best quality), null when yt-dlp knows none. */
  sizeBytes: number | null;
  entries: PreviewEntry[];
}

/** A progress report from a running download. */
export interface DownloadProgress {
  status: "downloading" | "processing";
  downloadedBytes: number | null;
  totalBytes: number | null;
  /** Bytes per second. */
  speed: number | null;
  etaSeconds: number | null;
  percent: number | null;
}

/** The file a finished download left, with the metadata to name it by. */
export interface DownloadedFile {
  path: string;
  id: string | null;
  title: string | null;
  channel: string | null;
  ext: string;
}
