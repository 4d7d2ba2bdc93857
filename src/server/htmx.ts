import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { BaseLayout } from "../../views/layouts/base";
import type { AppEnv } from "../app/deps";
import { sendPage } from "./middleware/security";
import { getNotice, peekNotice } from "../services/notice";
import { countUnreadNotifications } from "../store/notifications";

/** True when htmx asked for a part of a page rather than the whole document. */
export function isFragmentRequest(c: Context<AppEnv>): boolean {
  return (
    c.req.header("hx-request") === "true" &&
    c.req.header("hx-request-type") !== "full" &&
    c.req.header("hx-boosted") !== "true"
  );
}

/** Answer with the fragment for htmx requests and the full page otherwise, so deep links and no-JS work. */
export async function renderPage(
  c: Context<AppEnv>,
  title: string,
  content: JSX.Element,
  opts: {
    status?: number;
    fragment?: JSX.Element /** Read nothing from the database (it may be what failed). */;
    offline?: boolean;
  } = {},
) {
  const status = (opts.status ?? 200) as 200;
  if (isFragmentRequest(c)) return c.html(opts.fragment ?? content, status);
  const user = c.get("user");
  const deps = c.get("deps");
  let unread = 0;
  let notice: string | null = null;
  if (!opts.offline) {
    // Most pages find the notice in this replica's copy and need not wait for it.
    const known = peekNotice(deps);
    const reading = known !== undefined ? known : getNotice(deps).catch(() => null);
    if (user) [unread, notice] = await Promise.all([countUnreadNotifications(deps.database, user.id), reading]);
    else notice = reading instanceof Promise ? await reading : reading;
  }
  const layout = BaseLayout({
    title,
    path: c.req.path,
    viewer: user
      ? { username: user.username, displayName: user.displayName, role: user.role, avatarUrl: user.avatarUrl, unread }
      : undefined,
    notice,
    csrfToken: c.get("session")?.csrfToken,
    children: content,
  });
  const page = typeof layout === "string" ? layout : await layout;
  return sendPage(c, `<!DOCTYPE html>${page}`, status);
}
