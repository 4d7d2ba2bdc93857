import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { DashboardRequests, MyRequestsPage, type RequestRowView } from "../../views/pages/requests";
import type { AppEnv } from "../app/deps";
import { allow } from "../server/access";
import { renderPage } from "../server/htmx";
import { pageOf } from "./forms";
import { clientIp } from "../server/request";
import { getIntegrations } from "../services/integrations";
import { cancelMediaRequest, STATE_LABELS, titleHref } from "../services/media-requests";
import { plexWebUrlIfKnown } from "../services/plex-links";
import { imageProxyKey, signedTmdbImageUrl } from "../services/image-proxy";
import { listRecentMediaRequestsByUser, listUserMediaRequests, type MediaRequest } from "../store/media-requests";
import { formatDate } from "../../views/components/format";

const PAGE_SIZE = 25;
/** How many of a person's newest requests the dashboard shows. */
const DASHBOARD_LIMIT = 6;

function rowView(r: MediaRequest, machineIdentifier: string | null | undefined): RequestRowView {
  const kind = r.mediaType === "movie" ? "Movie" : r.seasons.length ? `Show, season ${r.seasons.join(", ")}` : "Show";
  return {
    id: r.id,
    title: r.year ? `${r.title} (${r.year})` : r.title,
    href: titleHref(r),
    detail: `${kind}${r.is4k ? " · 4K" : ""}`,
    stateLabel: STATE_LABELS[r.status],
    state: r.status,
    declineReason: r.declineReason,
    createdAt: formatDate(r.createdAt),
    canCancel: r.status === "pending",
    watchUrl:
      r.status === "available" || r.status === "partially_available"
        ? plexWebUrlIfKnown(machineIdentifier, r.plexRatingKey)
        : null,
  };
}

async function showMine(c: Context<AppEnv>, flash?: string, status = 200) {
  const deps = c.get("deps");
  const page = pageOf(c);
  const [{ items, total }, { plex }] = await Promise.all([
    listUserMediaRequests(deps.database, c.get("user")!.id, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
    getIntegrations(deps),
  ]);
  const rows = items.map((r) => rowView(r, plex?.machineIdentifier));
  return renderPage(
    c,
    "Your requests",
    <MyRequestsPage
      rows={rows}
      total={total}
      page={page}
      pageSize={PAGE_SIZE}
      csrf={c.get("csrfToken")}
      flash={flash}
    />,
    { status },
  );
}

/** Routes of a person's own requests: the list with live states, and cancelling one still pending. */
export function requestRoutes() {
  const app = new Hono<AppEnv>();
  // ?part=dashboard is the dashboard's "your requests", which loads itself so the dashboard runs no query for it.
  app.get("/requests", allow("user"), async (c) => {
    if (c.req.query("part") === "dashboard") {
      const deps = c.get("deps");
      const rows = await listRecentMediaRequestsByUser(deps.database, c.get("user")!.id, DASHBOARD_LIMIT);
      const key = imageProxyKey(deps);
      return c.html(
        <DashboardRequests
          rows={rows.map((r) => ({
            ...rowView(r, null),
            posterUrl: signedTmdbImageUrl(key, r.posterPath, "w185"),
            typeLabel: r.mediaType === "movie" ? "Movie" : "Show",
          }))}
        />,
      );
    }
    return showMine(c, c.req.query("cancelled") === "1" ? "Request cancelled." : undefined);
  });
  app.post("/requests/:id/cancel", allow("user"), async (c) => {
    const user = c.get("user")!;
    const outcome = await cancelMediaRequest(c.get("deps"), user, c.req.param("id"), { user, ip: clientIp(c) });
    if (outcome.kind === "refused") throw new HTTPException(outcome.status, { message: outcome.message });
    return c.redirect("/requests?cancelled=1", 303);
  });
  return app;
}
