import { type Context, Hono } from "hono";
import { z } from "zod";
import { AdminRequestsPage, type AdminRequestRowView } from "../../views/pages/admin-requests";
import { formatDate } from "../../views/components/format";
import type { AppEnv } from "../app/deps";
import { allow } from "../server/access";
import { renderPage } from "../server/htmx";
import { clientIp } from "../server/request";
import { DECLINE_REASON_MAX, decideMediaRequests, STATE_LABELS, titleHref } from "../services/media-requests";
import {
  countPendingMediaRequests,
  listMediaRequests,
  listRequesters,
  type MediaRequestState,
  type MediaRequestWithUser,
} from "../store/media-requests";
import { form, type OnInvalid } from "./forms";

const PAGE_SIZE = 50;
const STATES = Object.keys(STATE_LABELS) as MediaRequestState[];

function rowView(r: MediaRequestWithUser): AdminRequestRowView {
  const kind = r.mediaType === "movie" ? "Movie" : r.seasons.length ? `Show, season ${r.seasons.join(", ")}` : "Show";
  return {
    id: r.id,
    title: r.year ? `${r.title} (${r.year})` : r.title,
    href: titleHref(r),
    detail: `${kind}${r.is4k ? " · 4K" : ""}${r.source === "seerr" ? " · made in Seerr" : ""}`,
    requester: r.requesterName,
    stateLabel: STATE_LABELS[r.status],
    state: r.status,
    declineReason: r.declineReason,
    createdAt: formatDate(r.createdAt),
    pending: r.status === "pending",
  };
}

const filterSchema = z.object({
  status: z.enum(STATES).or(z.literal("")).catch(""),
  user: z.string().max(64).catch(""),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});

async function showAll(c: Context<AppEnv>, message: { ok: boolean; text: string } | null = null, status = 200) {
  const deps = c.get("deps");
  const f = filterSchema.parse({
    status: c.req.query("status") ?? "",
    user: c.req.query("user") ?? "",
    page: c.req.query("page") ?? 1,
  });
  const [{ items, total }, users, pending] = await Promise.all([
    listMediaRequests(deps.database, {
      ...(f.user ? { userId: f.user } : {}),
      ...(f.status ? { statuses: [f.status] } : {}),
      limit: PAGE_SIZE,
      offset: (f.page - 1) * PAGE_SIZE,
    }),
    listRequesters(deps.database),
    countPendingMediaRequests(deps.database),
  ]);
  return renderPage(
    c,
    "Requests · Admin",
    <AdminRequestsPage
      rows={items.map(rowView)}
      total={total}
      page={f.page}
      pageSize={PAGE_SIZE}
      filter={{ status: f.status, user: f.user }}
      statuses={STATES.map((s) => [s, STATE_LABELS[s]])}
      users={users}
      pending={pending}
      csrf={c.get("csrfToken")}
      message={message}
      reasonMax={DECLINE_REASON_MAX}
    />,
    { status },
  );
}

const ids = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => [v].flat())
  .pipe(z.array(z.string().min(1).max(64)).max(200, "Choose at most 200 requests at once."));

// One form for the whole list: a row's own button names that request, the bulk buttons the ticked ones.
const decideSchema = z.object({
  approve: z.string().max(64).optional(),
  decline: z.string().max(64).optional(),
  action: z.enum(["approve", "decline"], { error: "Choose approve or decline." }).optional(),
  ids: ids.optional(),
  reason: z
    .string()
    .trim()
    .max(DECLINE_REASON_MAX, `Use at most ${DECLINE_REASON_MAX} characters.`)
    .optional()
    .transform((v) => v || null),
  back: z.string().max(500).optional(),
});

function backTo(back: string | undefined): string {
  return back && /^\/admin\/requests(\?[^\s]*)?$/.test(back) ? back : "/admin/requests";
}

/** Routes of the admins' requests page: every request with filters, and approving or declining them. */
export function adminRequestRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/admin/requests", allow("admin"), (c) => {
    const decided = c.req.query("decided");
    const n = Number(c.req.query("n") ?? 0);
    const text =
      (decided === "approve" || decided === "decline") && Number.isInteger(n) && n > 0
        ? `${decided === "approve" ? "Approved" : "Declined"} ${n === 1 ? "1 request" : `${n} requests`}.`
        : undefined;
    return showAll(c, text ? { ok: true, text } : null);
  });
  const decideInvalid: OnInvalid = (c, errors) => {
    const [field, text] = Object.entries(errors)[0] ?? ["_form", "The form could not be read."];
    return showAll(c, { ok: false, text: `${field}: ${text}` }, 422);
  };
  app.post("/admin/requests", allow("admin"), form(decideSchema, decideInvalid), async (c) => {
    const d = c.req.valid("form");
    const decision = d.approve ? "approve" : d.decline ? "decline" : d.action;
    const chosen = d.approve ? [d.approve] : d.decline ? [d.decline] : (d.ids ?? []);
    if (!decision) return showAll(c, { ok: false, text: "action: Choose approve or decline." }, 422);
    if (chosen.length === 0) return showAll(c, { ok: false, text: "ids: Choose at least one request." }, 422);
    const user = c.get("user")!;
    const outcome = await decideMediaRequests(c.get("deps"), chosen, decision, d.reason, { user, ip: clientIp(c) });
    const verb = decision === "approve" ? "Approved" : "Declined";
    const parts: string[] = [];
    if (outcome.changed.length)
      parts.push(`${verb}: ${outcome.changed.map((r) => (r.year ? `${r.title} (${r.year})` : r.title)).join(", ")}.`);
    for (const r of outcome.refused) parts.push(`Not ${verb.toLowerCase()}: ${r.title}: ${r.message}.`);
    if (outcome.refused.length)
      return showAll(c, { ok: outcome.changed.length > 0, text: parts.join(" ") }, outcome.changed.length ? 200 : 409);
    const back = new URL(backTo(d.back), "http://x");
    back.searchParams.set("decided", decision);
    back.searchParams.set("n", String(outcome.changed.length));
    return c.redirect(back.pathname + back.search, 303);
  });
  return app;
}
