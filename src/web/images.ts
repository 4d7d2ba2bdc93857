import { Hono } from "hono";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import {
  ImageProxyError,
  imageProxyKey,
  loadPlexImage,
  loadRemoteImage,
  loadTmdbImage,
  verifyImageRequest,
  verifyRemoteImageRequest,
  verifyTmdbImageRequest,
} from "../services/image-proxy";
import { matchHost } from "../services/download-links";
import { getDownloadSettings } from "../services/download-settings";

/**
 * Routes of the signed image proxy: GET /img/plex?p=<plex path>&w=<width>&h=<height>&s=<signature> and
 * GET /img/tmdb?p=<tmdb file>&w=<tmdb size>&s=<signature>.
 */
export function imageRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/img/plex", allow("user"), async (c) => {
    const deps = c.get("deps");
    try {
      const { path, width, height } = verifyImageRequest(imageProxyKey(deps), c.req.query());
      const image = await loadPlexImage(deps, path, width, height);
      // Signed URLs name an exact Plex image version (its path carries a timestamp), so browsers may keep it.
      return c.body(image.bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": image.contentType,
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
      });
    } catch (err) {
      if (!(err instanceof ImageProxyError)) throw err;
      if (err.status === 502) deps.log.warn("image-proxy: Plex image failed", { error: err.message });
      c.header("Cache-Control", "no-store");
      return c.text(err.message, err.status);
    }
  });
  app.get("/img/tmdb", allow("user"), async (c) => {
    const deps = c.get("deps");
    try {
      const { path, size } = verifyTmdbImageRequest(imageProxyKey(deps), c.req.query());
      const image = await loadTmdbImage(deps, path, size);
      // TMDB file names are content hashes: a name never shows another picture.
      return c.body(image.bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": image.contentType,
        "Cache-Control": "private, max-age=604800, immutable",
        "X-Content-Type-Options": "nosniff",
      });
    } catch (err) {
      if (!(err instanceof ImageProxyError)) throw err;
      if (err.status === 502) deps.log.warn("image-proxy: TMDB image failed", { error: err.message });
      c.header("Cache-Control", "no-store");
      return c.text(err.message, err.status);
    }
  });
  app.get("/img/remote", allow("user"), async (c) => {
    const deps = c.get("deps");
    try {
      const url = verifyRemoteImageRequest(imageProxyKey(deps), c.req.query());
      const { allowedHosts } = await getDownloadSettings(deps);
      const image = await loadRemoteImage(deps, url, (host) => matchHost(host, allowedHosts).named);
      return c.body(image.bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": image.contentType,
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
      });
    } catch (err) {
      if (!(err instanceof ImageProxyError)) throw err;
      c.header("Cache-Control", "no-store");
      return c.text(err.message, err.status);
    }
  });
  return app;
}
