/**
 * Signed image proxy for Plex and TMDB images: only the server mints image URLs, no Plex token ever reaches a
 * browser, and the browser talks only to MediaNest (the CSP allows no image host but our own for these).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { IntegrationError, requestRaw } from "../integrations/http";
import type { AppDeps } from "../app/deps";
import { privateDestination } from "./download-links";
import { integrationObserver } from "./integration-observer";
import { getIntegrations } from "./integrations";
import { plexServerClient } from "./plex-server";

type ProxyDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics">;
type TmdbProxyDeps = Pick<AppDeps, "config" | "fetch" | "metrics">;

/** Largest image the proxy passes on; a bigger answer is cut off and refused. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Smallest and largest width or height a signed URL may ask for. */
export const MIN_IMAGE_SIDE = 8;
export const MAX_IMAGE_SIDE = 1600;

// Discover and search pages show a few hundred posters; the byte bound is what limits memory.
const CACHE_MAX_ENTRIES = 500;
const CACHE_MAX_BYTES = 50 * 1024 * 1024;
const CACHE_TTL_MS = 60 * 60_000;
const MAX_PATH_LENGTH = 1024;

// SVG can carry script and would run on this origin if opened directly; only raster formats pass.
const RASTER_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);

/** Why the proxy refused or failed; status is what the browser gets. */
export class ImageProxyError extends Error {
  override readonly name = "ImageProxyError";
  constructor(
    readonly status: 400 | 403 | 404 | 502,
    message: string,
  ) {
    super(message);
  }
}

/** An image ready to send. */
export interface ProxiedImage {
  bytes: Uint8Array;
  contentType: string;
}

/** Return the key that signs image URLs (derived from the master key, so it survives restarts and replicas). */
export function imageProxyKey(deps: Pick<AppDeps, "secretBox">): Buffer {
  return deps.secretBox.deriveKey("image-proxy");
}

/** Tell whether a path is a server-relative Plex library or resource image path the proxy may fetch. */
export function isPlexImagePath(path: string): boolean {
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) return false;
  if (!path.startsWith("/library/") && !path.startsWith("/:/resources/")) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path) || path.includes("://") || path.includes("//")) return false;
  const pathOnly = path.split("?")[0] ?? "";
  return !/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(pathOnly) && !/%2f|%5c/i.test(pathOnly);
}

function isSide(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_IMAGE_SIDE && n <= MAX_IMAGE_SIDE;
}

function sign(key: Buffer, path: string, width: number, height: number): string {
  // Width and height are integers, so "WxH:" cannot be confused with a path that contains the same characters.
  return createHmac("sha256", key).update(`${width}x${height}:${path}`).digest("base64url");
}

/** Mint a proxy URL for a Plex image path at a given size; null when the path is not a proxiable image. */
export function signedPlexImageUrl(
  key: Buffer,
  path: string | null | undefined,
  width: number,
  height: number,
): string | null {
  if (!path || !isPlexImagePath(path) || !isSide(width) || !isSide(height)) return null;
  const q = new URLSearchParams({ p: path, w: String(width), h: String(height), s: sign(key, path, width, height) });
  return `/img/plex?${q.toString()}`;
}

/** The TMDB image widths the proxy asks for: posters (w185, w342, w500) and backdrops (w780, w1280). */
export const TMDB_SIZES = ["w185", "w342", "w500", "w780", "w1280"] as const;
export type TmdbSize = (typeof TMDB_SIZES)[number];

/** Tell whether a path is a TMDB image file name as Seerr sends it ("/abc123.jpg"). */
export function isTmdbImagePath(path: string): boolean {
  return /^\/[A-Za-z0-9_-]{1,100}\.(jpg|jpeg|png|webp)$/.test(path);
}

function signTmdb(key: Buffer, path: string, size: string): string {
  // "tmdb:" keeps these signatures apart from Plex ones, whose payload starts with a digit.
  return createHmac("sha256", key).update(`tmdb:${size}:${path}`).digest("base64url");
}

// Minted links, per key: a page of search results or a discover row signs 20 posters, the same ones again and again,
// and signing them was a fifth of a cached search (docs/performance.md). Dropped whole past MAX_KEPT_LINKS.
const MAX_KEPT_LINKS = 5_000;
const mintedTmdb = new WeakMap<Buffer, Map<string, string>>();

/** Mint a proxy URL for a TMDB poster or backdrop path at one of TMDB's sizes; null when the path is not one. */
export function signedTmdbImageUrl(key: Buffer, path: string | null | undefined, size: TmdbSize): string | null {
  if (!path || !isTmdbImagePath(path)) return null;
  let minted = mintedTmdb.get(key);
  if (!minted) mintedTmdb.set(key, (minted = new Map()));
  const name = `${size}${path}`;
  let url = minted.get(name);
  if (url === undefined) {
    const q = new URLSearchParams({ p: path, w: size, s: signTmdb(key, path, size) });
    url = `/img/tmdb?${q.toString()}`;
    if (minted.size >= MAX_KEPT_LINKS) minted.clear();
    minted.set(name, url);
  }
  return url;
}

/** Check a TMDB proxy request's parameters and signature; return the path and size, or throw an ImageProxyError. */
export function verifyTmdbImageRequest(
  key: Buffer,
  query: { p?: string | undefined; w?: string | undefined; s?: string | undefined },
): { path: string; size: TmdbSize } {
  const path = query.p ?? "";
  if (!isTmdbImagePath(path)) throw new ImageProxyError(400, "image-proxy: only TMDB image file names can be shown");
  const size = TMDB_SIZES.find((s) => s === query.w);
  if (!size) throw new ImageProxyError(400, `image-proxy: the size must be one of ${TMDB_SIZES.join(", ")}`);
  const given = Buffer.from(query.s ?? "", "utf8");
  const expected = Buffer.from(signTmdb(key, path, size), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ImageProxyError(403, "image-proxy: this image link is not signed by this server");
  }
  return { path, size };
}

/** Check a proxy request's parameters and signature; return the path and size, or throw an ImageProxyError. */
export function verifyImageRequest(
  key: Buffer,
  query: { p?: string | undefined; w?: string | undefined; h?: string | undefined; s?: string | undefined },
): { path: string; width: number; height: number } {
  const path = query.p ?? "";
  if (!isPlexImagePath(path))
    throw new ImageProxyError(400, "image-proxy: only Plex library and resource image paths can be shown");
  const width = /^\d{1,4}$/.test(query.w ?? "") ? Number(query.w) : NaN;
  const height = /^\d{1,4}$/.test(query.h ?? "") ? Number(query.h) : NaN;
  if (!isSide(width) || !isSide(height)) {
    throw new ImageProxyError(
      400,
      `image-proxy: width and height must be whole numbers from ${MIN_IMAGE_SIDE} to ${MAX_IMAGE_SIDE}`,
    );
  }
  const given = Buffer.from(query.s ?? "", "utf8");
  const expected = Buffer.from(sign(key, path, width, height), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ImageProxyError(403, "image-proxy: this image link is not signed by this server");
  }
  return { path, width, height };
}

interface CacheEntry extends ProxiedImage {
  expiresAt: number;
}

/** A bounded least-recently-used byte cache, one per app. */
class ImageCache {
  private readonly entries = new Map<string, CacheEntry>();
  private bytes = 0;
  readonly inflight = new Map<string, Promise<ProxiedImage>>();

  get(key: string): ProxiedImage | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.remove(key);
    if (entry.expiresAt <= performance.now()) return undefined;
    this.entries.set(key, entry);
    this.bytes += entry.bytes.byteLength;
    return entry;
  }

  set(key: string, image: ProxiedImage): void {
    this.remove(key);
    this.entries.set(key, { ...image, expiresAt: performance.now() + CACHE_TTL_MS });
    this.bytes += image.bytes.byteLength;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= CACHE_MAX_ENTRIES && this.bytes <= CACHE_MAX_BYTES) break;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes.byteLength;
  }
}

// One cache per app (keyed by its deps), so test apps and their keys never share images.
const caches = new WeakMap<object, ImageCache>();

function cacheFor(deps: object): ImageCache {
  let cache = caches.get(deps);
  if (!cache) {
    cache = new ImageCache();
    caches.set(deps, cache);
  }
  return cache;
}

/** Return a Plex image at a size, from the in-process cache or fetched with the owner's token. */
export function loadPlexImage(deps: ProxyDeps, path: string, width: number, height: number): Promise<ProxiedImage> {
  return cachedImage(deps, `${width}x${height}:${path}`, () => fetchImage(deps, path, width, height));
}

/** Return a TMDB image at a size, from the in-process cache or fetched from TMDB's image server. */
export function loadTmdbImage(deps: TmdbProxyDeps, path: string, size: TmdbSize): Promise<ProxiedImage> {
  return cachedImage(deps, `tmdb:${size}:${path}`, async () => {
    let res: Response;
    try {
      res = await requestRaw({
        service: "tmdb",
        displayName: "TMDB",
        url: `${deps.config.tmdbImageUrl.replace(/\/+$/, "")}/t/p/${size}${path}`,
        headers: { Accept: "image/*" },
        fetch: deps.fetch,
        timeoutMs: 10_000,
        observer: integrationObserver(deps),
      });
    } catch (err) {
      if (err instanceof IntegrationError) {
        if (err.status === 404) throw new ImageProxyError(404, "image-proxy: TMDB has no such image");
        throw new ImageProxyError(502, `image-proxy: ${err.message}`);
      }
      throw err;
    }
    return readImage(res, "TMDB");
  });
}

function cachedImage(deps: object, key: string, load: () => Promise<ProxiedImage>): Promise<ProxiedImage> {
  const cache = cacheFor(deps);
  const hit = cache.get(key);
  if (hit) return Promise.resolve(hit);
  const pending = cache.inflight.get(key);
  if (pending) return pending;
  const run = load()
    .then((image) => {
      cache.set(key, image);
      return image;
    })
    .finally(() => cache.inflight.delete(key));
  cache.inflight.set(key, run);
  return run;
}

async function fetchImage(deps: ProxyDeps, path: string, width: number, height: number): Promise<ProxiedImage> {
  const { plex } = await getIntegrations(deps);
  if (!plex) throw new ImageProxyError(404, "image-proxy: no Plex server is configured");
  const client = await plexServerClient(deps, plex);
  let res: Response;
  try {
    res = await client.fetchImage(path, { width, height });
  } catch (err) {
    if (err instanceof IntegrationError) throw new ImageProxyError(502, `image-proxy: ${err.message}`);
    throw err;
  }
  return readImage(res, "Plex");
}

/** Read an image answer: a raster type, at most MAX_IMAGE_BYTES, not empty; anything else is a 502. */
async function readImage(res: Response, source: string): Promise<ProxiedImage> {
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!RASTER_TYPES.has(contentType)) {
    await res.body?.cancel().catch(() => {});
    throw new ImageProxyError(
      502,
      `image-proxy: ${source} answered ${contentType || "something"} instead of a JPEG, PNG, WebP, GIF or AVIF image`,
    );
  }
  const tooLarge = () =>
    new ImageProxyError(502, `image-proxy: ${source} sent an image larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MiB`);
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > MAX_IMAGE_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_IMAGE_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ImageProxyError) throw err;
    throw new ImageProxyError(502, `image-proxy: ${source} stopped sending the image (${(err as Error).message})`);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (total === 0) throw new ImageProxyError(502, `image-proxy: ${source} sent an empty image`);
  return { bytes, contentType };
}

// Thumbnails of videos (YouTube's i.ytimg.com and the like): their addresses come from remote metadata, so only the
// server mints these links, and each fetch (and each redirect) must go to a public address.
function signRemote(key: Buffer, url: string): string {
  return createHmac("sha256", key).update(`remote:${url}`).digest("base64url");
}

/** Mint a proxy URL for a video thumbnail (http or https); null for anything else. */
export function signedRemoteImageUrl(key: Buffer, url: string | null | undefined): string | null {
  if (!url || url.length > MAX_PATH_LENGTH || !/^https?:\/\/[^\s]+$/i.test(url)) return null;
  return `/img/remote?${new URLSearchParams({ u: url, s: signRemote(key, url) }).toString()}`;
}

/** Check a remote image request's signature; return the URL, or throw an ImageProxyError. */
export function verifyRemoteImageRequest(
  key: Buffer,
  query: { u?: string | undefined; s?: string | undefined },
): string {
  const url = query.u ?? "";
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new ImageProxyError(400, "image-proxy: not an image address");
  const given = Buffer.from(query.s ?? "", "utf8");
  const expected = Buffer.from(signRemote(key, url), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ImageProxyError(403, "image-proxy: this image link is not signed by this server");
  return url;
}

/**
 * Return a video thumbnail from the cache or its site. `mayBePrivate(host)` says whether a host may be on a private
 * address (one the admin allowed for downloads by name); every other address must be public, redirects included.
 */
export function loadRemoteImage(
  deps: Pick<AppDeps, "fetch">,
  url: string,
  mayBePrivate: (host: string) => boolean,
): Promise<ProxiedImage> {
  return cachedImage(deps, `remote:${url}`, async () => {
    let next = url;
    for (let hop = 0; hop < 4; hop++) {
      const u = new URL(next);
      if (u.protocol !== "http:" && u.protocol !== "https:")
        throw new ImageProxyError(400, "image-proxy: not an image address");
      if (!mayBePrivate(u.hostname)) {
        const why = await privateDestination(u.hostname);
        if (why) throw new ImageProxyError(403, `image-proxy: refused, ${why}`);
      }
      let res: Response;
      try {
        res = await deps.fetch(next, {
          redirect: "manual",
          headers: { Accept: "image/*" },
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw new ImageProxyError(502, `image-proxy: the thumbnail did not load (${(err as Error).message})`);
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel().catch(() => {});
        next = new URL(location, next).toString();
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new ImageProxyError(res.status === 404 ? 404 : 502, `image-proxy: the site answered ${res.status}`);
      }
      return readImage(res, "the video site");
    }
    throw new ImageProxyError(502, "image-proxy: too many redirects");
  });
}
