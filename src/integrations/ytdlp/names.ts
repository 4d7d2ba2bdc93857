/**
 * File and folder names built from remote metadata (titles, channels, ids), which a site's uploader controls: none
 * may leave the download root, hide itself, collide with another by case or Unicode form, or exceed what a file
 * system accepts.
 */
import { lstat, mkdir, readdir, realpath } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

/** Most file systems allow 255 bytes per name; these budgets leave room for " [id].ext", " (2)" and ".part". */
export const MAX_TITLE_BYTES = 150;
export const MAX_FOLDER_BYTES = 100;
export const MAX_ID_BYTES = 64;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// C0 and C1 controls, DEL, zero-width and direction-changing characters, the byte-order mark.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

function cutToBytes(s: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(s).byteLength <= maxBytes) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = encoder.encode(ch).byteLength;
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * Make one path segment from remote text: Unicode NFC, no separators or characters file systems refuse, no
 * control or invisible characters, no leading dots, dashes and spaces nor trailing dots and spaces (so never ".", ".." or an option), not a reserved
 * Windows device name, at most maxBytes of UTF-8. Empty results become the fallback.
 */
export function safeName(raw: string | null | undefined, fallback: string, maxBytes = MAX_TITLE_BYTES): string {
  let s = (raw ?? "")
    .normalize("NFC")
    .replace(/[\t\n\r\v\f]/g, " ")
    .replace(INVISIBLE, "");
  s = s
    .replace(/[/\\]/g, "-")
    .replace(/:/g, " -")
    .replace(/[*?"<>|]/g, "")
    .replace(/\s+/g, " ");
  s = cutToBytes(s, maxBytes).replace(/^[\s.-]+|[\s.]+$/g, "");
  if (!s) return fallback === "" ? "Untitled" : safeName(fallback, "Untitled", maxBytes);
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  return s;
}

/** Keep a plain extension (letters and digits, up to 8); anything else becomes "bin". */
export function safeExtension(ext: string | null | undefined): string {
  const e = (ext ?? "").replace(/^\./, "").toLowerCase();
  return /^[a-z0-9]{1,8}$/.test(e) ? e : "bin";
}

/** Compare names the way a case-insensitive, normalising file system (macOS, SMB shares) would. */
export function foldName(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** True when path is root itself or inside it (both resolved; no symlinks followed). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** Refuse a path that is not strictly inside root, with the reason. */
export class UnsafePathError extends Error {
  override readonly name = "UnsafePathError";
}

async function existingEntries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/**
 * Return the folder for a channel inside root, created when absent. A folder whose name differs only by case or
 * Unicode form is reused, so "Channel" and "channel" never become two folders that a case-insensitive share
 * would merge. The folder must really be inside root (a symlink out of it is refused).
 */
export async function channelFolder(root: string, channel: string): Promise<string> {
  const base = resolve(root);
  const wanted = safeName(channel, "Unknown channel", MAX_FOLDER_BYTES);
  const existing = (await existingEntries(base)).find((e) => foldName(e) === foldName(wanted));
  const dir = join(base, existing ?? wanted);
  if (!isInside(base, dir) || dir === base) throw new UnsafePathError(`downloads: ${dir} is outside ${base}`);
  if (existing) {
    const info = await lstat(dir);
    if (!info.isDirectory())
      throw new UnsafePathError(`downloads: ${dir} exists and is not a folder (a link or a file)`);
  } else {
    await mkdir(dir, { recursive: false }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  const [realBase, realDir] = await Promise.all([realpath(base), realpath(dir)]);
  if (!isInside(realBase, realDir) || realDir === realBase)
    throw new UnsafePathError(`downloads: ${dir} leads outside ${base}`);
  return dir;
}

/**
 * Choose a free file name in dir for "<title> [<id>]" with the given extensions (the video's and its poster's):
 * a name taken by any existing entry, compared by case and Unicode form, gets " (2)", " (3)", …
 * Returns the base name without extension.
 */
export async function freeBaseName(
  dir: string,
  title: string,
  id: string,
  extensions: string[],
  prefix = "",
): Promise<string> {
  const taken = new Set((await existingEntries(dir)).map(foldName));
  const t = safeName(title, id || "Untitled");
  const i = safeName(id, "video", MAX_ID_BYTES);
  for (let n = 1; n < 1000; n++) {
    const base = `${prefix}${t} [${i}]${n > 1 ? ` (${n})` : ""}`;
    if (extensions.every((ext) => !taken.has(foldName(`${base}.${ext}`)))) return base;
  }
  throw new UnsafePathError(`downloads: no free name for ${t} in ${dir}`);
}
