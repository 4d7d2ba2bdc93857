import { Hono } from "hono";
import { allow } from "../server/access";
import type { AppEnv } from "../server/deps";
import { adminExists } from "../store/users";
import { renderPage } from "./htmx";
import { HomePage } from "../../views/pages/home";

/** Routes of the home page. */
export function homeRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/", allow("public"), async (c) => {
    const deps = c.get("deps");
    const hasAdmin = await adminExists(deps.database);
    return renderPage(c, "MediaNest", HomePage({ hasAdmin, user: c.get("user") }));
  });
  return app;
}
