import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { z } from "zod";
import {
  DashboardDownloads,
  DownloadForm,
  DownloadList,
  DownloadsPage,
  type DownloadView,
  PreviewCard,
  type PreviewView,
} from "../../views/pages/downloads";
import type { AppEnv } from "../app/deps";
import { checkBinaryKept, QUALITIES, YtdlpError } from "../integrations/ytdlp/client";
import { folderProblems } from "../services/download-folders";
import { getDownloadSettings, getYtdlpPath } from "../services/download-settings";
import {
  removeSubscription,
  setSubscriptionPaused,
  subscribe,
  userSubscriptions,
} from "../services/download-subscriptions";
import { SubscriptionsPage } from "../../views/pages/download-subscriptions";
import { allow } from "../server/access";
import { isHtmxRequest, redirect, renderPage } from "../server/htmx";
import { formatBytes, readQueuePause } from "../services/download-worker";
import {
  type CheckedPreview,
  cancelDownload,
  createDownload,
  DownloadRefusal,
  deleteDownloadFiles,
  downloadLibraries,
  previewDownload,
  removeDownload,
  retryDownload,
} from "../services/downloads";
import { imageProxyKey, signedRemoteImageUrl } from "../services/image-proxy";
import { getIntegrations, type LibraryFolder } from "../services/integrations";
import { can } from "../services/permissions";
import { countDownloads, type DownloadSummary, listDownloadSummaries } from "../store/downloads";
import { type FieldErrors, type FormValues, form, formValues, pageOf, withForm } from "./forms";

/** Downloads per page of the list: a long queue renders a page, never every row. */
export const LIST_PAGE_SIZE = 25;

function clock(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds)) return null;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

/** Turn download summaries into what the list shows (thumbnails through the signed proxy). */
export function toDownloadViews(key: Buffer, summaries: DownloadSummary[], libraries: LibraryFolder[]): DownloadView[] {
  return summaries.map((s) => ({
    summary: s,
    thumbnailUrl: signedRemoteImageUrl(key, s.download.thumbnailUrl),
    library: libraries.find((l) => l.sectionKey === s.download.sectionKey)?.title ?? "",
    size: s.bytes > 0 ? formatBytes(s.bytes) : null,
  }));
}

function toPreviewView(key: Buffer, c: CheckedPreview): PreviewView {
  const p = c.preview;
  return {
    url: c.url,
    kind: p.kind,
    title: p.title,
    channel: p.channel,
    duration: clock(p.durationSeconds),
    size: p.sizeBytes ? formatBytes(p.sizeBytes) : null,
    thumbnailUrl: signedRemoteImageUrl(key, p.thumbnailUrl),
    entries: c.entries.map((e) => ({ index: e.index, title: e.title, duration: clock(e.durationSeconds) })),
    skipped: c.skipped,
  };
}

async function listView(c: Context<AppEnv>) {
  const deps = c.get("deps");
  const user = c.get("user")!;
  const page = pageOf(c);
  const [summaries, total, { libraries }, pause] = await Promise.all([
    listDownloadSummaries(deps.database, {
      userId: user.id,
      limit: LIST_PAGE_SIZE,
      offset: (page - 1) * LIST_PAGE_SIZE,
    }),
    countDownloads(deps.database, { userId: user.id }),
    getIntegrations(deps),
    readQueuePause(deps),
  ]);
  return {
    items: toDownloadViews(imageProxyKey(deps), summaries, libraries),
    pause: pause?.reason ?? null,
    page,
    total,
    pageSize: LIST_PAGE_SIZE,
    csrf: c.get("csrfToken"),
  };
}

async function problemFor(c: Context<AppEnv>): Promise<string | null> {
  const deps = c.get("deps");
  const user = c.get("user")!;
  if (!can(user, "download")) return "Your account may not download videos; ask an admin for the permission.";
  const libraries = await downloadLibraries(deps);
  const admin = user.role === "admin";
  if (libraries.length === 0)
    return admin
      ? "No library has a download folder yet: set one on the integrations page (Admin → Integrations → Download folders)."
      : "No library has a download folder yet; ask an admin to set one.";
  const problems: string[] = [];
  try {
    await checkBinaryKept(await getYtdlpPath(deps));
  } catch (err) {
    if (!(err instanceof YtdlpError)) throw err;
    problems.push(
      admin
        ? `${err.message}: downloads wait in the queue until it is installed or its path is fixed (Admin → Download settings).`
        : "Downloads cannot start right now (the downloader is not installed); they wait in the queue. Ask an admin.",
    );
  }
  for (const p of await folderProblems(libraries.map((l) => l.folder))) {
    const titles = libraries.filter((l) => l.folder === p.folder).map((l) => l.title);
    problems.push(
      admin
        ? `Downloads into ${titles.join(", ")} cannot be saved: ${p.reason}.`
        : `Downloads into ${titles.join(", ")} cannot be saved right now (MediaNest cannot write to its folder); ask an admin.`,
    );
  }
  return problems.length ? problems.join(" ") : null;
}

async function showPage(c: Context<AppEnv>, compose: JSX.Element, status = 200) {
  const list = await listView(c);
  return renderPage(
    c,
    "Downloads",
    <DownloadsPage
      csrf={c.get("csrfToken")}
      compose={compose}
      list={list}
      problem={await problemFor(c)}
      canSubscribe={can(c.get("user")!, "subscribe_channels")}
    />,
    { status, fragment: <div id="dl-compose">{compose}</div> },
  );
}

const previewForm = z.object({
  url: z.string({ error: "Paste a link." }).trim().min(1, "Paste a link.").max(2000, "That link is too long."),
});

const confirmForm = previewForm.extend({
  quality: z.enum(QUALITIES, { error: "Pick one of the qualities offered." }),
  sectionKey: z.string({ error: "Pick a library." }).min(1, "Pick a library."),
});

const manageForm = z.object({ op: z.enum(["pause", "resume", "remove"]), subscription: z.string().min(1) });

function statusOf(err: DownloadRefusal): 403 | 404 | 409 | 422 | 429 | 503 {
  return err.status;
}

async function libraryOptions(c: Context<AppEnv>): Promise<[string, string][]> {
  return (await downloadLibraries(c.get("deps"))).map((l) => [l.sectionKey, l.title]);
}

async function showPreview(
  c: Context<AppEnv>,
  url: string,
  values: FormValues,
  errors: FieldErrors = {},
  status = 200,
) {
  const deps = c.get("deps");
  const checked = await previewDownload(deps, c.get("user")!, url);
  return showPage(
    c,
    <PreviewCard
      preview={toPreviewView(imageProxyKey(deps), checked)}
      csrf={c.get("csrfToken")}
      libraries={await libraryOptions(c)}
      values={values}
      errors={errors}
    />,
    status,
  );
}

async function afterAction(c: Context<AppEnv>, run: () => Promise<unknown>) {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof DownloadRefusal)) throw err;
    if (err.status === 404) return c.text(err.message, 404);
    return c.html(
      <div id="download-list">
        <div class="alert alert-error" role="alert">
          {err.message}
        </div>
        <DownloadList {...(await listView(c))} />
      </div>,
      statusOf(err),
    );
  }
  if (!isHtmxRequest(c)) return redirect(c, "/downloads");
  return c.html(<DownloadList {...(await listView(c))} />);
}

const SUBSCRIPTION_DONE: Record<string, string> = {
  subscribed: "Subscribed. New videos are queued as they appear.",
  pause: "Paused: no new videos are queued until you resume it.",
  resume: "Resumed: it is checked within a minute.",
  remove: "Removed. The videos it downloaded stay.",
};

async function showSubscriptions(
  c: Context<AppEnv>,
  extra: { values?: FormValues; errors?: FieldErrors; message?: string | null } = {},
  status = 200,
) {
  const deps = c.get("deps");
  const user = c.get("user")!;
  const [items, libraries, settings] = await Promise.all([
    userSubscriptions(deps, user),
    downloadLibraries(deps),
    getDownloadSettings(deps),
  ]);
  const problem = !can(user, "subscribe_channels")
    ? "Your account may not subscribe to channels; ask an admin for the permission."
    : !can(user, "download")
      ? "Your account may not download videos; ask an admin for the permission."
      : libraries.length === 0
        ? "No library has a download folder yet; ask an admin to set one."
        : null;
  return renderPage(
    c,
    "Subscriptions",
    <SubscriptionsPage
      csrf={c.get("csrfToken")}
      problem={problem}
      items={items.map((s) => ({
        subscription: s,
        library: libraries.find((l) => l.sectionKey === s.sectionKey)?.title ?? "",
      }))}
      libraries={libraries.map((l) => [l.sectionKey, l.title])}
      intervalMinutes={settings.subscriptionCheckMinutes}
      values={extra.values}
      errors={extra.errors}
      message={extra.message}
    />,
    { status },
  );
}

/** Routes of the downloads page: the link form, its preview, the queue and what can be done with each download. */
export function downloadRoutes() {
  const app = new Hono<AppEnv>();
  // ?part=list is the list alone, which refreshes itself (a static /downloads/list would sit beside /downloads/:id).
  app.get("/downloads", allow("user"), async (c) => {
    if (c.req.query("part") === "dashboard") {
      const deps = c.get("deps");
      const [summaries, { libraries }] = await Promise.all([
        listDownloadSummaries(deps.database, { userId: c.get("user")!.id, limit: 5 }),
        getIntegrations(deps),
      ]);
      return c.html(<DashboardDownloads items={toDownloadViews(imageProxyKey(deps), summaries, libraries)} />);
    }
    if (c.req.query("part") === "list") {
      return c.html(<DownloadList {...(await listView(c))} />);
    }
    return showPage(c, <DownloadForm csrf={c.get("csrfToken")} />);
  });

  // One address for both steps: the link form sends step=preview, the preview's form confirms.
  app.post("/downloads", allow("user"), async (c) => {
    const preview = (await c.req.parseBody()).step === "preview";
    return preview ? withForm(checkPreview, c, previewStep) : withForm(checkConfirm, c, confirmStep);
  });

  const checkPreview: MiddlewareHandler<AppEnv> = form(previewForm, (c, errors, values) =>
    showPage(c, <DownloadForm csrf={c.get("csrfToken")} values={values} errors={errors} />, 422),
  );

  async function previewStep(c: Context<AppEnv>) {
    const data = c.req.valid("form" as never) as z.output<typeof previewForm>;
    const values = formValues(c);
    try {
      return await showPreview(c, data.url, values);
    } catch (err) {
      if (!(err instanceof DownloadRefusal)) throw err;
      return showPage(
        c,
        <DownloadForm csrf={c.get("csrfToken")} values={values} errors={{ [err.field]: err.message }} />,
        statusOf(err),
      );
    }
  }

  // A confirmation that does not parse shows its preview again with the errors, while the link itself is fine.
  const checkConfirm: MiddlewareHandler<AppEnv> = form(confirmForm, async (c, errors, values) => {
    const url = values.url ?? "";
    if (!url || errors.url)
      return showPage(c, <DownloadForm csrf={c.get("csrfToken")} values={values} errors={errors} />, 422);
    try {
      return await showPreview(c, url, values, errors, 422);
    } catch (err) {
      if (!(err instanceof DownloadRefusal)) throw err;
      return showPage(c, <DownloadForm csrf={c.get("csrfToken")} values={values} errors={{ url: err.message }} />, 422);
    }
  });

  async function confirmStep(c: Context<AppEnv>) {
    const deps = c.get("deps");
    const user = c.get("user")!;
    const data = c.req.valid("form" as never) as z.output<typeof confirmForm>;
    const values = formValues(c);
    try {
      await createDownload(deps, user, { user, ip: null }, data);
    } catch (err) {
      if (!(err instanceof DownloadRefusal)) throw err;
      const errors = { [err.field]: err.message };
      if (err.field === "url")
        return showPage(c, <DownloadForm csrf={c.get("csrfToken")} values={values} errors={errors} />, statusOf(err));
      try {
        return await showPreview(c, data.url, values, errors, statusOf(err));
      } catch (again) {
        if (!(again instanceof DownloadRefusal)) throw again;
        return showPage(c, <DownloadForm csrf={c.get("csrfToken")} values={values} errors={errors} />, statusOf(err));
      }
    }
    if (!isHtmxRequest(c)) return redirect(c, "/downloads");
    // The form comes back empty; the list refreshes itself from the live stream.
    return c.html(
      <div id="dl-compose">
        <div class="alert alert-ok" role="status">
          Queued. Its progress shows below.
        </div>
        <DownloadForm csrf={c.get("csrfToken")} />
      </div>,
    );
  }

  // The subscriptions page shares the place of a download's id: a static /downloads/subscriptions beside
  // /downloads/:id/cancel would push the area off Hono's RegExpRouter (docs/architecture.md, speed rules).
  app.get("/downloads/:id", allow("user"), (c) => {
    if (c.req.param("id") !== "subscriptions") return c.notFound();
    const saved = c.req.query("done");
    return showSubscriptions(c, { message: saved ? (SUBSCRIPTION_DONE[saved] ?? null) : null });
  });
  const checkSubscribe: MiddlewareHandler<AppEnv> = form(confirmForm, (c, errors, values) =>
    showSubscriptions(c, { values, errors }, 422),
  );
  const checkManage: MiddlewareHandler<AppEnv> = form(manageForm, (c) =>
    showSubscriptions(c, { errors: { _form: "Pick a subscription and what to do with it." } }, 422),
  );
  app.post("/downloads/:id", allow("user"), async (c) => {
    if (c.req.param("id") !== "subscriptions") return c.notFound();
    const op = (await c.req.parseBody()).op ?? "subscribe";
    return op === "subscribe" ? withForm(checkSubscribe, c, subscribeStep) : withForm(checkManage, c, manageStep);
  });

  async function subscribeStep(c: Context<AppEnv>) {
    const user = c.get("user")!;
    try {
      await subscribe(c.get("deps"), user, { user }, c.req.valid("form" as never) as z.output<typeof confirmForm>);
    } catch (err) {
      if (!(err instanceof DownloadRefusal)) throw err;
      return showSubscriptions(c, { values: formValues(c), errors: { [err.field]: err.message } }, err.status);
    }
    return redirect(c, "/downloads/subscriptions?done=subscribed");
  }

  async function manageStep(c: Context<AppEnv>) {
    const deps = c.get("deps");
    const user = c.get("user")!;
    const { op, subscription: id } = c.req.valid("form" as never) as z.output<typeof manageForm>;
    try {
      if (op === "remove") await removeSubscription(deps, user, { user }, id);
      else await setSubscriptionPaused(deps, user, { user }, id, op === "pause");
    } catch (err) {
      if (!(err instanceof DownloadRefusal)) throw err;
      if (err.status === 404) return c.text(err.message, 404);
      return showSubscriptions(c, { errors: { _form: err.message } }, err.status);
    }
    return redirect(c, `/downloads/subscriptions?done=${op}`);
  }

  const act = (name: string, run: (c: Context<AppEnv>, id: string) => Promise<unknown>) =>
    app.post(`/downloads/:id/${name}`, allow("user"), (c) => afterAction(c, () => run(c, c.req.param("id"))));
  act("cancel", (c, id) => cancelDownload(c.get("deps"), c.get("user")!, { user: c.get("user") }, id));
  act("retry", (c, id) => retryDownload(c.get("deps"), c.get("user")!, { user: c.get("user") }, id));
  act("remove", (c, id) => removeDownload(c.get("deps"), c.get("user")!, { user: c.get("user") }, id));
  act("delete-files", (c, id) => deleteDownloadFiles(c.get("deps"), c.get("user")!, { user: c.get("user") }, id));
  return app;
}
