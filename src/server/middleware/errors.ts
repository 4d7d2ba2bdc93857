import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorAlert, ErrorPage } from "../../../views/pages/error";
import { dbErrorMessage } from "../../db/database";
import { IntegrationError } from "../../integrations/http";
import type { AppEnv } from "../../app/deps";
import { isHtmxRequest, renderPage, retarget } from "../htmx";

// Driver and socket codes that mean "the database is not reachable", not "this query is wrong".
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01",
  "57P03",
  "SQLITE_BUSY",
]);

/** Name the backing service an error says is out of reach: the database or Redis; undefined for other errors. */
export function unreachableService(err: unknown): "database" | "Redis" | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE.has(code)) return "database";
    if (e.message.startsWith("coordination: ")) return "Redis";
  }
  return undefined;
}

function respond(c: Context<AppEnv>, status: number, message: string, offline = false) {
  if (c.req.path.startsWith("/api/")) return c.json({ error: message }, status as 400);
  if (isHtmxRequest(c)) {
    // htmx 4 swaps error answers into the request's target too; the alert belongs in the page's alert area.
    retarget(c, "#alerts", "innerHTML");
    return c.html(ErrorAlert({ message }), status as 400);
  }
  return renderPage(c, "Error", ErrorPage({ status, message }), { status, offline });
}

/** Turn every thrown error into a clear answer: HTML for browsers, a fragment for htmx, JSON under /api. */
export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof HTTPException) {
    // An exception that carries its own answer (bearerAuth's 401 with its challenge) is sent as it is.
    if (err.res) return err.getResponse();
    if (err.status >= 500) c.get("deps")?.log.error("http exception", { path: c.req.path, error: err.message });
    return respond(c, err.status, err.message || "Request refused.");
  }
  if (err instanceof IntegrationError) {
    return respond(c, 502, err.message);
  }
  const down = unreachableService(err);
  if (down) {
    c.get("deps")?.log.error(`${down} unreachable`, { path: c.req.path, error: dbErrorMessage(err) });
    c.header("Retry-After", "5");
    return respond(
      c,
      503,
      `MediaNest cannot reach its ${down} right now, so it shows nothing rather than something wrong. Try again in a moment.`,
      true,
    );
  }
  // dbErrorMessage: a failed PostgreSQL query's own message carries its SQL and parameters; log the reason only.
  c.get("deps")?.log.error("unhandled error", {
    path: c.req.path,
    error: dbErrorMessage(err),
    stack: (err as Error).stack?.split("\n").slice(1, 6).join("\n"),
  });
  return respond(c, 500, "MediaNest hit an unexpected error. It has been logged; please try again.");
};

/** Answer unknown paths with a 404 page. */
export const notFound: NotFoundHandler<AppEnv> = (c) => respond(c, 404, "There is no page at this address.");
