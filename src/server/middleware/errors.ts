import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorAlert, ErrorPage } from "../../../views/pages/error";
import { IntegrationError } from "../../integrations/http";
import { renderPage } from "../../web/htmx";
import type { AppEnv } from "../deps";

function respond(c: Context<AppEnv>, status: number, message: string) {
  if (c.req.path.startsWith("/api/")) return c.json({ error: message }, status as 400);
  if (c.req.header("hx-request") === "true") {
    // htmx does not swap error responses unless told to; retarget the alert into the page's alert area.
    c.header("HX-Retarget", "#alerts");
    c.header("HX-Reswap", "innerHTML");
    return c.html(ErrorAlert({ message }), status as 400);
  }
  return renderPage(c, "Error", ErrorPage({ status, message }), { status });
}

/** Turn every thrown error into a clear answer: HTML for browsers, a fragment for htmx, JSON under /api. */
export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof HTTPException) {
    if (err.status >= 500) c.get("deps")?.log.error("http exception", { path: c.req.path, error: err.message });
    return respond(c, err.status, err.message || "Request refused.");
  }
  if (err instanceof IntegrationError) {
    return respond(c, 502, err.message);
  }
  c.get("deps")?.log.error("unhandled error", { path: c.req.path, error: (err as Error).message, stack: (err as Error).stack });
  return respond(c, 500, "MediaNest hit an unexpected error. It has been logged; please try again.");
};

/** Answer unknown paths with a 404 page. */
export const notFound: NotFoundHandler<AppEnv> = (c) => respond(c, 404, "There is no page at this address.");
