import { Hono, type Context } from "hono";
import { StatusPage, StatusTiles } from "../../views/pages/status";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { getStatusOverview, runStatusChecks } from "../services/status";
import { isHtmxRequest, renderPage } from "../server/htmx";

async function showStatusPage(c: Context<AppEnv>) {
  const overview = await getStatusOverview(c.get("deps"));
  const isAdmin = c.get("user")?.role === "admin";
  return renderPage(c, "Status", <StatusPage overview={overview} isAdmin={isAdmin} csrf={c.get("csrfToken")} />, {
    fragment: <StatusTiles overview={overview} isAdmin={isAdmin} />,
  });
}

/** Routes of the status page. */
export function statusRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/status", allow("user"), (c) => showStatusPage(c));
  app.post("/status/check", allow("admin"), async (c) => {
    const deps = c.get("deps");
    // Through the scheduler, so a run already under way (here or on another replica) is not doubled.
    if (deps.jobs.has("status-checks")) await deps.jobs.runNow("status-checks");
    else await runStatusChecks(deps);
    if (!isHtmxRequest(c)) return c.redirect("/status", 303);
    return c.html(<StatusTiles overview={await getStatusOverview(deps)} isAdmin />);
  });
  return app;
}
