import { Hono, type Context } from "hono";
import { NotificationsPage } from "../../views/pages/notifications";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { publishUnread } from "../services/notifications";
import {
  deleteNotification,
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from "../store/notifications";
import { isHtmxRequest, renderPage } from "../server/htmx";
import { pageOf } from "./forms";

const PAGE_SIZE = 20;

async function showNotificationsPage(c: Context<AppEnv>, status = 200) {
  const deps = c.get("deps");
  const page = pageOf(c);
  const { items, total } = await listNotifications(deps.database, c.get("user")!.id, {
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  return renderPage(
    c,
    "Notifications",
    <NotificationsPage items={items} total={total} page={page} pageSize={PAGE_SIZE} csrf={c.get("csrfToken")} />,
    { status },
  );
}

async function afterChange(c: Context<AppEnv>, changed: boolean) {
  const deps = c.get("deps");
  if (changed) await publishUnread(deps, c.get("user")!.id);
  // One not in this user's list (another's, or gone) is a 404, for a plain form as for htmx: never a redirect that
  // reads as done.
  if (changed && !isHtmxRequest(c)) return c.redirect("/notifications", 303);
  return showNotificationsPage(c, changed ? 200 : 404);
}

/** Routes of the notification center. */
export function notificationRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/notifications", allow("user"), (c) => showNotificationsPage(c));
  // "all" marks every notification read (one route shape, so the router stays a single regular expression).
  app.post("/notifications/:id/read", allow("user"), async (c) => {
    const { database } = c.get("deps");
    const userId = c.get("user")!.id;
    if (c.req.param("id") === "all") {
      await markAllNotificationsRead(database, userId, new Date());
      return afterChange(c, true);
    }
    return afterChange(c, await markNotificationRead(database, c.req.param("id"), userId, new Date()));
  });
  app.post("/notifications/:id/delete", allow("user"), async (c) => {
    const ok = await deleteNotification(c.get("deps").database, c.req.param("id"), c.get("user")!.id);
    return afterChange(c, ok);
  });
  return app;
}
