import type { Context, MiddlewareHandler, Next } from "hono";
import { setupOpen } from "../../services/setup-state";
import type { AppEnv } from "../../app/deps";
import { redirect } from "../htmx";

const ALWAYS_OPEN = /^\/(setup|auth\/plex|static|healthz|readyz|metrics|manifest\.webmanifest|icon-|favicon)/;

/** While no administrator exists, send every page to /setup. */
export function setupGate(): MiddlewareHandler<AppEnv> {
  // Once setup is done it stays done, so only the open state costs a query per request.
  let done = false;
  const check = async (c: Context<AppEnv>, next: Next) => {
    if (!(await setupOpen(c.get("deps")))) {
      done = true;
      return next();
    }
    return redirect(c, "/setup");
  };
  return (c, next) =>
    done || ALWAYS_OPEN.test(c.req.path) || c.req.path.startsWith("/api/") ? next() : check(c, next);
}
