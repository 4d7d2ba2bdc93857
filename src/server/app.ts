import { Hono } from "hono";
import type { RouterRoute } from "hono/types";
import { allow } from "./access";
import { sendText } from "./htmx";
import { assetUrl, findAsset } from "../app/assets";
import type { AppDeps, AppEnv } from "../app/deps";
import { errorHandler, notFound } from "./middleware/errors";
import { metricsToken } from "./middleware/metrics-token";
import { requestPipeline } from "./middleware/pipeline";

// Unhashed paths the web app manifest and browsers ask for by name.
const STABLE_FILES: Record<string, string> = {
  "/manifest.webmanifest": "manifest.webmanifest",
  "/icon-192.png": "icon-192.png",
  "/icon-512.png": "icon-512.png",
  "/favicon.ico": "icon.svg",
};

// The pages come in areas, each a Hono app of its own with the whole middleware chain, chosen by the first segment
// of the path and loaded the first time a request needs it. A server starts without evaluating the code of pages
// nobody has asked for yet (most of its code), and each area's route table stays small.
//
// An area is registered here and nowhere else: its first path segments and the route factories of its modules.
// The segments must be known before the area's code is loaded, so they live in this table, and every route of the
// area must begin with one of them: an area whose routes stray is refused when it loads (routesOutside), which
// test/routes-access.test.ts does for every area.
interface Area {
  segments: string[];
  load(): Promise<Hono<AppEnv>[]>;
}

/** An area and, once asked for, its app. */
interface Slot {
  area: Area;
  app?: Hono<AppEnv>;
  loading?: Promise<Hono<AppEnv>>;
}

const AREAS: Area[] = [
  { segments: ["", "dashboard"], load: async () => [(await import("../web/home")).homeRoutes()] },
  { segments: ["library"], load: async () => [(await import("../web/library")).libraryRoutes()] },
  { segments: ["img"], load: async () => [(await import("../web/images")).imageRoutes()] },
  { segments: ["discover", "search", "title"], load: async () => [(await import("../web/media")).mediaRoutes()] },
  { segments: ["requests"], load: async () => [(await import("../web/requests")).requestRoutes()] },
  {
    segments: ["login", "logout", "setup", "auth"],
    load: async () => {
      const [auth, oidc] = await Promise.all([import("../web/auth"), import("../web/oidc")]);
      return [auth.authRoutes(), oidc.oidcRoutes()];
    },
  },
  {
    segments: ["account"],
    load: async () => {
      const [account, targets] = await Promise.all([import("../web/account"), import("../web/notification-targets")]);
      return [account.accountRoutes(), targets.notificationTargetRoutes()];
    },
  },
  {
    segments: ["admin"],
    load: async () => {
      const [admin, integrations, targets, downloads, requests] = await Promise.all([
        import("../web/admin"),
        import("../web/integrations"),
        import("../web/notification-targets"),
        import("../web/admin-downloads"),
        import("../web/admin-requests"),
      ]);
      return [
        admin.adminRoutes(),
        integrations.integrationRoutes(),
        targets.deliveryRoutes(),
        downloads.adminDownloadRoutes(),
        requests.adminRequestRoutes(),
      ];
    },
  },
  { segments: ["downloads"], load: async () => [(await import("../web/downloads")).downloadRoutes()] },
  {
    segments: ["api"],
    load: async () => [(await import("../web/api")).apiRoutes()],
  },
  { segments: ["events"], load: async () => [(await import("../web/events")).eventRoutes()] },
  { segments: ["notifications"], load: async () => [(await import("../web/notifications")).notificationRoutes()] },
  { segments: ["status"], load: async () => [(await import("../web/status")).statusRoutes()] },
];

/** List the routes (as "METHOD /path") whose first path segment is not one of the area's segments. */
export function routesOutside(segments: string[], routes: { method: string; path: string }[]): string[] {
  // Hono lists a route once per handler (its allow() and the handler itself): one name each.
  const stray = routes.filter((r) => r.method !== "ALL" && !segments.includes(r.path.split("/")[1] ?? ""));
  return [...new Set(stray.map((r) => `${r.method} ${r.path}`))];
}

/** The server's request handler; areas of pages are loaded on first use. */
export interface App {
  fetch(request: Request, env?: { server?: Bun.Server<undefined> }): Response | Promise<Response>;
  /** Like Hono's app.request: a URL (or path) and init. */
  request(input: string, init?: RequestInit): Promise<Response>;
  /** Load every area and return its Hono app, the core app first (for tests that walk every route). */
  loadAll(): Promise<Hono<AppEnv>[]>;
  /** Every route of every area (loads them all). */
  routes(): Promise<RouterRoute[]>;
}

/** The first segment of a request URL's path ("" for "/"), decoded when it holds escapes. */
export function firstSegment(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "";
  let end = start + 1;
  for (; end < url.length; end++) {
    const ch = url.charCodeAt(end);
    if (ch === 47 || ch === 63 || ch === 35) break; // "/", "?", "#"
  }
  const segment = url.slice(start + 1, end);
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Build the app from its dependencies: the core routes now, each area of pages when first asked for. */
export function createApp(deps: AppDeps): App {
  // One middleware runs every request's layers (request log, security headers, session, body limit and CSRF, setup
  // gate; see pipeline.ts), shared by every area.
  const pipeline = requestPipeline(deps, errorHandler);
  const newApp = () => {
    const app = new Hono<AppEnv>();
    app.onError(errorHandler);
    app.notFound(notFound);
    app.use(pipeline);
    return app;
  };

  const core = coreRoutes(newApp(), deps);
  const bySegment = new Map<string, Slot>();
  for (const area of AREAS) {
    const slot: Slot = { area };
    for (const segment of area.segments) bySegment.set(segment, slot);
  }
  const loadArea = (slot: Slot) =>
    (slot.loading ??= slot.area.load().then(
      (routes) => {
        const app = newApp();
        for (const r of routes) app.route("/", r);
        const stray = routesOutside(slot.area.segments, app.routes);
        if (stray.length)
          throw new Error(`the area of /${slot.area.segments.join(", /")} has routes outside it: ${stray.join(", ")}`);
        slot.app = app;
        return app;
      },
      (err) => {
        slot.loading = undefined;
        throw err;
      },
    ));

  const fetch: App["fetch"] = (request, env) => {
    const slot = bySegment.get(firstSegment(request.url));
    if (!slot) return core.fetch(request, env);
    if (slot.app) return slot.app.fetch(request, env);
    return loadArea(slot).then(
      (app) => app.fetch(request, env),
      (err: Error) => {
        deps.log.error("cannot load a page area", { segments: slot.area.segments, error: err.message });
        return new Response("MediaNest could not load this page. The log says why.", {
          status: 500,
          headers: { "content-type": "text/plain; charset=UTF-8" },
        });
      },
    );
  };
  return {
    fetch,
    request: async (input, init) => fetch(new Request(new URL(input, "http://localhost"), init)),
    loadAll: async () => [core, ...(await Promise.all([...new Set(bySegment.values())].map(loadArea)))],
    routes: async function () {
      return (await this.loadAll()).flatMap((app) => app.routes);
    },
  };
}

/** Health, readiness, metrics and static files: what a server must answer before any page is loaded. */
function coreRoutes(app: Hono<AppEnv>, deps: AppDeps): Hono<AppEnv> {
  app.get("/healthz", allow("public"), (c) => sendText(c, "ok"));
  app.get("/readyz", allow("public"), async (c) => {
    const r = await deps.readiness.check();
    if (r.draining) return c.json(r, 503);
    return c.json(
      {
        ready: r.ready,
        database: r.database ? "up" : "down",
        migrations: r.migrations ? "current" : "pending",
        coordination: `${deps.coordination.kind} ${r.coordination ? "up" : "down"}`,
      },
      r.ready ? 200 : 503,
    );
  });
  app.get("/metrics", allow("public"), metricsToken(deps.config.metricsToken), async (c) => {
    await deps.metrics.collectDefaults();
    c.header("Content-Type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  app.get("/static/:file", allow("public"), (c) => {
    const asset = findAsset(c.req.path);
    if (!asset) return notFound(c);
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
  for (const [path, name] of Object.entries(STABLE_FILES)) {
    app.get(path, allow("public"), (c) => {
      const asset = findAsset(assetUrl(name))!;
      c.header("Content-Type", asset.type);
      c.header("Cache-Control", "public, max-age=3600");
      return c.body(asset.body as Uint8Array<ArrayBuffer>);
    });
  }

  return app;
}
