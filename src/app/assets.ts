import { readFileSync } from "node:fs";
// Imported as files so `bun build --compile` embeds them in the binary.
import htmxJs from "htmx.org/dist/htmx.min.js" with { type: "file" };
import sseJs from "htmx.org/dist/ext/hx-sse.min.js" with { type: "file" };
import appCss from "../../public/app.css" with { type: "file" };
import appJs from "../../public/app.js" with { type: "file" };
import iconSvg from "../../public/icon.svg" with { type: "file" };
import iconPng from "../../public/icon-192.png" with { type: "file" };
import iconPng512 from "../../public/icon-512.png" with { type: "file" };
import manifest from "../../public/manifest.webmanifest" with { type: "file" };

const sources: Record<string, { path: string; type: string }> = {
  "htmx.js": { path: htmxJs, type: "text/javascript; charset=utf-8" },
  "hx-sse.js": { path: sseJs, type: "text/javascript; charset=utf-8" },
  "app.css": { path: appCss, type: "text/css; charset=utf-8" },
  "app.js": { path: appJs, type: "text/javascript; charset=utf-8" },
  "icon.svg": { path: iconSvg, type: "image/svg+xml" },
  "icon-192.png": { path: iconPng, type: "image/png" },
  "icon-512.png": { path: iconPng512, type: "image/png" },
  "manifest.webmanifest": { path: manifest, type: "application/manifest+json" },
};

export interface Asset {
  url: string;
  body: Uint8Array;
  type: string;
}

let table: { byName: Map<string, Asset>; byUrl: Map<string, Asset> } | undefined;

function load() {
  if (table) return table;
  const byName = new Map<string, Asset>();
  const byUrl = new Map<string, Asset>();
  for (const [name, src] of Object.entries(sources)) {
    const body = new Uint8Array(readFileSync(src.path));
    const hash = Bun.hash(body).toString(16).padStart(16, "0").slice(0, 10);
    const dot = name.lastIndexOf(".");
    const url = `/static/${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
    const asset = { url, body, type: src.type };
    byName.set(name, asset);
    byUrl.set(url, asset);
  }
  table = { byName, byUrl };
  return table;
}

/** Return the content-hashed URL of an embedded static file. */
export function assetUrl(name: string): string {
  const a = load().byName.get(name);
  if (!a) throw new Error(`assets: unknown asset ${name}`);
  return a.url;
}

/** Find an embedded file by its hashed URL. */
export function findAsset(url: string): Asset | undefined {
  return load().byUrl.get(url);
}
