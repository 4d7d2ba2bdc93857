import { type Context, Hono } from "hono";
import { AdminDownloadsPage } from "../../views/pages/admin-downloads";
import type { AppEnv } from "../app/deps";
import { allow } from "../server/access";
import { isHtmxRequest, redirect, renderPage } from "../server/htmx";
import { formatBytes, readQueuePause } from "../services/download-worker";
import { approveDownload, DownloadRefusal, declineDownload } from "../services/downloads";
import { imageProxyKey } from "../services/image-proxy";
import { getIntegrations } from "../services/integrations";
import { listDownloadSummaries, queueHealth, storedBytesByUser } from "../store/downloads";
import { listUsers } from "../store/users";
import { toDownloadViews } from "./downloads";
import { readForm } from "./forms";

async function showAdminDownloads(
  c: Context<AppEnv>,
  message: { ok: boolean; text: string } | null = null,
  status = 200,
) {
  const deps = c.get("deps");
  const now = new Date();
  const [waiting, recent, health, storage, { libraries }, pause, { users }] = await Promise.all([
    listDownloadSummaries(deps.database, { limit: 200, statuses: ["awaiting_approval"] }),
    listDownloadSummaries(deps.database, { limit: 100 }),
    queueHealth(deps.database, now),
    storedBytesByUser(deps.database),
    getIntegrations(deps),
    readQueuePause(deps),
    listUsers(deps.database, { limit: 500 }),
  ]);
  const key = imageProxyKey(deps);
  return renderPage(
    c,
    "Downloads · Admin",
    <AdminDownloadsPage
      csrf={c.get("csrfToken")}
      waiting={toDownloadViews(key, waiting, libraries)}
      recent={toDownloadViews(key, recent, libraries)}
      health={health}
      pause={pause?.reason ?? null}
      storage={[...storage.entries()]
        .map(([id, bytes]) => ({ user: users.find((u) => u.id === id)?.username ?? id, bytes: formatBytes(bytes) }))
        .sort((a, b) => a.user.localeCompare(b.user))}
      message={message}
    />,
    { status },
  );
}

/** Routes of the admins' downloads page: every download, approvals, storage per user and the queue's health. */
export function adminDownloadRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/admin/downloads", allow("admin"), (c) => showAdminDownloads(c));
  for (const action of ["approve", "decline"] as const) {
    app.post(`/admin/downloads/:id/${action}`, allow("admin"), async (c) => {
      const deps = c.get("deps");
      const admin = c.get("user")!;
      const form = await readForm(c);
      try {
        const d =
          action === "approve"
            ? await approveDownload(deps, admin, { user: admin }, c.req.param("id"))
            : await declineDownload(
                deps,
                admin,
                { user: admin },
                c.req.param("id"),
                typeof form.reason === "string" ? form.reason : "",
              );
        if (!isHtmxRequest(c)) return redirect(c, "/admin/downloads");
        return showAdminDownloads(c, {
          ok: true,
          text: `${action === "approve" ? "Approved" : "Declined"}: ${d.title}`,
        });
      } catch (err) {
        if (!(err instanceof DownloadRefusal)) throw err;
        return showAdminDownloads(c, { ok: false, text: err.message }, err.status);
      }
    });
  }
  return app;
}
