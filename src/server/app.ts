import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { accountRoutes } from "../web/account";
import { adminRoutes } from "../web/admin";
import { apiRoutes } from "../web/api";
import { authRoutes } from "../web/auth";
import { eventRoutes } from "../web/events";
import { homeRoutes } from "../web/home";
import { integrationRoutes } from "../web/integrations";
import { imageRoutes } from "../web/images";
import { notificationRoutes } from "../web/notifications";
import { notificationTargetRoutes } from "../web/notification-targets";
import { statusRoutes } from "../web/status";
import { oidcRoutes } from "../web/oidc";
import { allow } from "./access";
import { assetUrl, findAsset } from "./assets";
import type { AppDeps, AppEnv } from "./deps";
import { csrfProtection } from "./middleware/csrf";
import { errorHandler, notFound } from "./middleware/errors";
import { requestLog } from "./middleware/request-log";
import { securityHeaders } from "./middleware/security";
import { sessionMiddleware } from "./middleware/session";
import { setupGate } from "./middleware/setup-gate";

// Unhashed paths the web app manifest and browsers ask for by name.
const STABLE_FILES: Record<string, string> = {
  "/manifest.webmanifest": "manifest.webmanifest",
  "/icon-192.png": "icon-192.png",
  "/icon-512.png": "icon-512.png",
  "/favicon.ico": "icon.svg",
};

/** Build the whole Hono app from its dependencies. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(errorHandler);
  app.notFound(notFound);

  // Middleware order: request log → security headers → body limit → session → CSRF → setup gate → handler.
  app.use(async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(
    bodyLimit({
      maxSize: deps.config.bodyLimit,
      onError: () => {
        throw new HTTPException(413, { message: `The request is too large (limit ${Math.round(deps.config.bodyLimit / 1024)} KiB).` });
      },
    }),
  );
  app.use(sessionMiddleware());
  app.use(csrfProtection());
  app.use(setupGate());

  app.get("/healthz", allow("public"), (c) => c.text("ok"));
  app.get("/readyz", allow("public"), async (c) => {
    const [db, schema, coordination] = await Promise.all([
      deps.database.ping(),
      deps.database.ping().then((up) => (up ? deps.schemaCurrent() : false)),
      deps.coordination.ping(),
    ]);
    const ready = db && schema && coordination;
    return c.json(
      { ready, database: db ? "up" : "down", migrations: schema ? "current" : "pending", coordination: `${deps.coordination.kind} ${coordination ? "up" : "down"}` },
      ready ? 200 : 503,
    );
  });
  app.get("/metrics", allow("public"), async (c) => {
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

  app.route("/", homeRoutes());
  app.route("/", imageRoutes());
  app.route("/", authRoutes());
  app.route("/", oidcRoutes());
  app.route("/", accountRoutes());
  app.route("/", adminRoutes());
  app.route("/", integrationRoutes());
  app.route("/", apiRoutes());
  app.route("/", eventRoutes());
  app.route("/", notificationRoutes());
  app.route("/", notificationTargetRoutes());
  app.route("/", statusRoutes());
  return app;
}
