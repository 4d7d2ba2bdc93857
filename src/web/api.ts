import { Hono } from "hono";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { PERMISSIONS, can } from "../services/permissions";

/** The JSON API under /api/v1; personal API tokens act as their user here. */
export function apiRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/api/v1/me", allow("user"), (c) => {
    const u = c.get("user")!;
    return c.json({
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      role: u.role,
      permissions: PERMISSIONS.filter((p) => can(u, p)),
      quotas: {
        requestsPerDay: u.requestsPerDay,
        requestsPerWeek: u.requestsPerWeek,
        downloadsPerHour: u.downloadsPerHour,
        downloadsPerDay: u.downloadsPerDay,
        storageCapBytes: u.storageCapBytes,
      },
    });
  });
  return app;
}
