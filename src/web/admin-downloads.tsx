import { type Context, Hono } from "hono";
import { z } from "zod";
import { AdminDownloadsPage } from "../../views/pages/admin-downloads";
import { DownloadSettingsPage, type DownloadSettingsValues, settingsValues } from "../../views/pages/download-settings";
import type { AppEnv } from "../app/deps";
import { allow } from "../server/access";
import { isHtmxRequest, redirect, renderPage } from "../server/htmx";
import { formatBytes, readQueuePause } from "../services/download-worker";
import { approveDownload, DownloadRefusal, declineDownload } from "../services/downloads";
import { imageProxyKey } from "../services/image-proxy";
import { getIntegrations } from "../services/integrations";
import { countDownloads, listDownloadSummaries, queueHealth, storedBytesByUser } from "../store/downloads";
import { findUsernames } from "../store/users";
import { toDownloadViews } from "./downloads";
import { type FieldErrors, type FormValues, form, formValues, pageOf } from "./forms";
import { clientIp } from "../server/request";
import { audit } from "../services/audit";
import { folderProblems } from "../services/download-folders";
import { parseAllowedHosts } from "../services/download-links";
import {
  DOWNLOAD_LIMITS,
  type DownloadSettings,
  getDownloadSettings,
  hasCookies,
  SETTINGS_TOPIC,
  saveDownloadSettings,
  ytdlpAgeWarning,
} from "../services/download-settings";
import { readYtdlpVersion } from "../services/integration-checks";

const MIB = 1024 * 1024;
/** The largest cookies file taken (a browser's export for a few sites is a few KiB). */
const COOKIES_MAX_BYTES = 256 * 1024;

const whole = (label: string, [min, max]: readonly [number, number]) =>
  z
    .string({ error: `Enter ${label}.` })
    .trim()
    .regex(/^\d+$/, `Enter a whole number from ${min} to ${max}.`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `Enter a whole number from ${min} to ${max}.`);

const settingsForm = z.object({
  allowedHosts: z.string().max(20_000, "The list is too long.").default(""),
  workers: whole("how many downloads run at once", DOWNLOAD_LIMITS.workers),
  stallSeconds: whole("the seconds without progress", DOWNLOAD_LIMITS.stallSeconds),
  minFreeMiB: whole("the free space to keep", [0, 1024 * 1024 * 1024]),
  subscriptionCheckMinutes: whole("the minutes between checks", DOWNLOAD_LIMITS.subscriptionCheckMinutes),
  removeCookies: z.string().optional().transform(Boolean),
});

function formValuesOf(s: DownloadSettings): DownloadSettingsValues {
  return {
    allowedHosts: s.allowedHosts.join("\n"),
    workers: String(s.workers),
    stallSeconds: String(s.stallSeconds),
    minFreeMiB: String(Math.round(s.minFreeBytes / MIB)),
    subscriptionCheckMinutes: String(s.subscriptionCheckMinutes),
  };
}

/** Read an uploaded cookies file: Netscape format (tab-separated lines of seven fields), or the reason it is not. */
export async function readCookiesFile(
  file: File,
): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  if (file.size > COOKIES_MAX_BYTES)
    return { ok: false, message: `The cookies file is larger than ${COOKIES_MAX_BYTES / 1024} KiB.` };
  const text = (await file.text()).replace(/^\uFEFF/, "");
  if (text.includes("\0")) return { ok: false, message: "That is not a text file." };
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !(l.startsWith("#") && !l.startsWith("#HttpOnly_")));
  if (lines.length === 0) return { ok: false, message: "The cookies file holds no cookies." };
  const bad = lines.findIndex((l) => l.split("\t").length !== 7);
  if (bad >= 0)
    return {
      ok: false,
      message:
        "That is not a cookies.txt in Netscape format (each cookie a line of seven tab-separated fields); export it again with a cookies.txt extension.",
    };
  return { ok: true, text: text.endsWith("\n") ? text : `${text}\n` };
}

async function showDownloadSettings(
  c: Context<AppEnv>,
  extra: { errors?: FieldErrors; values?: FormValues; saved?: string | null; fresh?: boolean } = {},
  status = 200,
) {
  const deps = c.get("deps");
  const [settings, { ytdlpPath, libraries }, cookies] = await Promise.all([
    getDownloadSettings(deps),
    getIntegrations(deps),
    hasCookies(deps),
  ]);
  const folders = libraries.filter((l) => l.folder).map((l) => ({ title: l.title, folder: l.folder }));
  const [ytdlp, problems] = await Promise.all([
    readYtdlpVersion(ytdlpPath, deps.integrationTimeoutMs),
    folderProblems(
      folders.map((f) => f.folder),
      { fresh: extra.fresh ?? true },
    ),
  ]);
  return renderPage(
    c,
    "Download settings · Admin",
    <DownloadSettingsPage
      csrf={c.get("csrfToken")}
      ytdlpPath={ytdlpPath}
      ytdlp={ytdlp}
      ageWarning={ytdlp.ok ? ytdlpAgeWarning(ytdlp.version) : null}
      folders={folders}
      problems={problems}
      values={settingsValues(extra.values, formValuesOf(settings))}
      errors={extra.errors}
      hasCookies={cookies}
      saved={extra.saved}
    />,
    { status },
  );
}

/** Downloads per page of "every download", and approvals shown at once (deciding them brings up the next). */
export const ADMIN_PAGE_SIZE = 25;

async function showAdminDownloads(
  c: Context<AppEnv>,
  message: { ok: boolean; text: string } | null = null,
  status = 200,
) {
  const deps = c.get("deps");
  const now = new Date();
  // A long queue is paged: the page renders a bounded number of downloads however many rows there are.
  const page = pageOf(c);
  const [waiting, recent, total, health, storage, { libraries }, pause] = await Promise.all([
    listDownloadSummaries(deps.database, { limit: ADMIN_PAGE_SIZE, statuses: ["awaiting_approval"] }),
    listDownloadSummaries(deps.database, { limit: ADMIN_PAGE_SIZE, offset: (page - 1) * ADMIN_PAGE_SIZE }),
    countDownloads(deps.database),
    queueHealth(deps.database, now),
    storedBytesByUser(deps.database),
    getIntegrations(deps),
    readQueuePause(deps),
  ]);
  // The names of those who store files, not every user: a few rows however many accounts there are.
  const names = await findUsernames(deps.database, [...storage.keys()]);
  const key = imageProxyKey(deps);
  return renderPage(
    c,
    "Downloads · Admin",
    <AdminDownloadsPage
      csrf={c.get("csrfToken")}
      waiting={toDownloadViews(key, waiting, libraries)}
      recent={toDownloadViews(key, recent, libraries)}
      page={page}
      total={total}
      pageSize={ADMIN_PAGE_SIZE}
      health={health}
      pause={pause?.reason ?? null}
      storage={[...storage.entries()]
        .map(([id, bytes]) => ({ user: names.get(id) ?? id, bytes: formatBytes(bytes) }))
        .sort((a, b) => a.user.localeCompare(b.user))}
      message={message}
    />,
    { status },
  );
}

// A reason that is not one line of text is no reason.
const declineForm = z.object({ reason: z.string().optional().catch(undefined) });

/** Routes of the admins' downloads page: every download, approvals, storage per user and the queue's health. */
export function adminDownloadRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/admin/downloads", allow("admin"), (c) => showAdminDownloads(c));
  app.get("/admin/download-settings", allow("admin"), (c) =>
    showDownloadSettings(c, { saved: c.req.query("saved") ? "Download settings saved." : null }),
  );
  // The sites and the cookies file are checked beside the schema, so a refused form names all its faults at once.
  const settingsExtras = async (c: Context<AppEnv>, values: FormValues, errors: FieldErrors) => {
    const { hosts, invalid } = parseAllowedHosts(values.allowedHosts ?? "");
    if (invalid.length) errors.allowedHosts = `Not a host name: ${invalid.slice(0, 3).join(", ")}.`;
    else if (hosts.length === 0) errors.allowedHosts = "Name at least one site, e.g. youtube.com.";
    else if (hosts.length > 200) errors.allowedHosts = "Name at most 200 sites.";
    const upload = (await c.req.parseBody({ all: true })).cookies;
    const file = [upload].flat().find((f): f is File => f instanceof File && f.size > 0);
    let cookies: string | null | undefined;
    if (file) {
      const read = await readCookiesFile(file);
      if (read.ok) cookies = read.text;
      else errors.cookies = read.message;
    }
    return { hosts, cookies };
  };
  const checkSettingsForm = form(settingsForm, async (c, errors, values) => {
    const all = { ...errors };
    await settingsExtras(c, values, all);
    return showDownloadSettings(c, { errors: all, values }, 422);
  });
  app.post("/admin/download-settings", allow("admin"), checkSettingsForm, async (c) => {
    const deps = c.get("deps");
    const values = formValues(c);
    const errors: FieldErrors = {};
    const { hosts, cookies: upload } = await settingsExtras(c, values, errors);
    let cookies = upload;
    if (Object.keys(errors).length) return showDownloadSettings(c, { errors, values }, 422);
    const d = c.req.valid("form");
    if (cookies === undefined && d.removeCookies) cookies = null;
    await saveDownloadSettings(deps, {
      allowedHosts: hosts,
      workers: d.workers,
      stallSeconds: d.stallSeconds,
      minFreeBytes: d.minFreeMiB * MIB,
      subscriptionCheckMinutes: d.subscriptionCheckMinutes,
      cookies,
    });
    await deps.coordination.pubsub.publish(SETTINGS_TOPIC, { at: Date.now() });
    await audit(
      deps,
      { user: c.get("user"), ip: clientIp(c) },
      "settings.change",
      { type: "settings", id: "downloads" },
      {
        allowedHosts: hosts,
        workers: d.workers,
        stallSeconds: d.stallSeconds,
        minFreeMiB: d.minFreeMiB,
        subscriptionCheckMinutes: d.subscriptionCheckMinutes,
        cookiesUpdated: cookies !== undefined,
        cookiesRemoved: cookies === null,
      },
    );
    return redirect(c, "/admin/download-settings?saved=1");
  });
  for (const action of ["approve", "decline"] as const) {
    app.post(`/admin/downloads/:id/${action}`, allow("admin"), form(declineForm), async (c) => {
      const deps = c.get("deps");
      const admin = c.get("user")!;
      const { reason } = c.req.valid("form");
      try {
        const d =
          action === "approve"
            ? await approveDownload(deps, admin, { user: admin }, c.req.param("id"))
            : await declineDownload(deps, admin, { user: admin }, c.req.param("id"), reason ?? "");
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
