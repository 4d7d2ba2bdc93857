import { isAbsolute, resolve } from "node:path";
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  ConnectionResult,
  type IntegrationForm,
  IntegrationsPage,
  type IntegrationsPageProps,
  type SeerrExtras,
  type TestableService,
} from "../../views/pages/integrations";
import { formatDate } from "../../views/components/format";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { clientIp } from "../server/request";
import { type Actor, audit } from "../services/audit";
import {
  lastWebhookDelivery,
  rotateWebhookSecret,
  SEERR_WEBHOOK_PATH,
  SEERR_WEBHOOK_TEMPLATE,
  webhookAuthHeader,
  storedWebhookSecret,
} from "../services/seerr-webhook";
import { importAllowed, setImportAllowed } from "../services/seerr-users";
import { getPlexServer } from "../services/auth-settings";
import {
  checkFolder,
  type ConnectionReport,
  ConnectionFailure,
  readYtdlpVersion,
  sameOrigin,
  storedPlexTokenMayGoTo,
  testKuma,
  testPlex,
  testSeerr,
  testYtdlp,
  type YtdlpVersion,
} from "../services/integration-checks";
import {
  connectAndSavePlex,
  removeService,
  savePlexUnreached,
  saveKuma,
  saveLibraryFolders,
  saveSeerr,
  saveYtdlp,
  toIntegrationsView,
  ytdlpVersionCacheKey,
} from "../services/integration-settings";
import { getIntegrations, type Integrations } from "../services/integrations";
import { type FieldErrors, type FormValues, form, formValues, type OnInvalid } from "./forms";
import { isFragmentRequest, redirect, renderPage } from "../server/htmx";

const TITLE = "Integrations";
const YTDLP_VERSION_TTL_MS = 60_000;

const httpUrl = (example: string) =>
  z
    .string({ error: `Enter the URL, e.g. ${example}` })
    .trim()
    .min(1, `Enter the URL, e.g. ${example}`)
    .max(500, "Use at most 500 characters.")
    .superRefine((v, ctx) => {
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        ctx.addIssue({ code: "custom", message: `Enter an http(s) URL, e.g. ${example}` });
        return;
      }
      if (u.protocol !== "http:" && u.protocol !== "https:")
        ctx.addIssue({ code: "custom", message: `Use an http:// or https:// URL, e.g. ${example}` });
      else if (u.username || u.password)
        ctx.addIssue({ code: "custom", message: "Leave the user name and password out of the URL." });
      else if (u.search || u.hash) ctx.addIssue({ code: "custom", message: "Leave out the part after ? or #." });
    })
    .transform((v) => v.replace(/\/+$/, ""));

const secret = z
  .string()
  .trim()
  .max(500, "Use at most 500 characters.")
  .optional()
  .transform((v) => v ?? "");

const plexForm = z.object({ plexUrl: httpUrl("http://192.168.1.10:32400"), plexToken: secret });
const seerrForm = z.object({ seerrUrl: httpUrl("http://192.168.1.10:5055"), seerrApiKey: secret });
const kumaForm = z.object({
  kumaUrl: httpUrl("http://192.168.1.10:3001"),
  kumaSlug: z
    .string({ error: "Enter the status page slug." })
    .trim()
    .min(1, "Enter the status page slug.")
    .max(100, "Use at most 100 characters.")
    .regex(/^[A-Za-z0-9_-]+$/, "Use only the slug: letters, digits, dashes (the part after /status/)."),
  kumaApiKey: secret,
  kumaClearApiKey: z.string().optional().transform(Boolean),
});
const ytdlpForm = z.object({
  ytdlpPath: z
    .string({ error: "Enter the path of the yt-dlp program." })
    .trim()
    .min(1, "Enter the path of the yt-dlp program.")
    .max(500, "Use at most 500 characters.")
    .refine((v) => !v.includes("\0"), "Enter a path.")
    .refine(
      (v) => isAbsolute(v) || /^[A-Za-z0-9._+-]+$/.test(v),
      "Use an absolute path (/usr/local/bin/yt-dlp) or a program name on the PATH (yt-dlp).",
    )
    .transform((v) => (isAbsolute(v) ? resolve(v) : v)),
});
const folder = z
  .string()
  .trim()
  .max(1000, "Use at most 1000 characters.")
  .refine(
    (v) => v === "" || (isAbsolute(v) && !v.includes("\0")),
    "Use an absolute folder path, e.g. /data/media/movies.",
  )
  .transform((v) => (v === "" ? "" : resolve(v)));

// Every field of the library folders form is a folder, named `folder-<section key>`; the handler keeps the known ones.
const foldersForm = z.record(z.string(), folder);

function actor(c: Context<AppEnv>): Actor {
  return { user: c.get("user"), ip: clientIp(c) };
}

/** The saved-setting notices, by ?saved= value, when no connection test result is at hand. */
const SAVED: Record<string, string> = {
  plex: "Plex server saved.",
  seerr: "Seerr saved.",
  "seerr-removed": "Seerr removed.",
  "seerr-webhook": "A new webhook secret is made: give Seerr the new Authorization header.",
  "seerr-import": "Importing Plex users into Seerr saved.",
  kuma: "Uptime Kuma saved.",
  "kuma-removed": "Uptime Kuma removed.",
  ytdlp: "yt-dlp path saved.",
  libraries: "Download folders saved.",
};

/** What a save's connection test found, kept for the page the browser is sent to next (post/redirect/get). */
interface SaveResult {
  userId: string;
  service: TestableService;
  report: ConnectionReport;
}
const RESULT_TTL_MS = 10 * 60_000;
const resultKey = (id: string) => `integrations:save-result:${id}`;

/** Say how a save went: saved and tested, or saved while the test failed (and what that leaves undone). */
function savedNotice(service: TestableService, report: ConnectionReport): { text: string; ok: boolean } {
  const what = SAVED[service]!.replace(/\.$/, "");
  if (report.ok) return { text: `${what}. The connection test passed: ${report.title}`, ok: true };
  const plexNote =
    service === "plex"
      ? " Its machine identifier and library sections were not read; save again once Plex answers."
      : "";
  return { text: `${what}, but the connection test failed: ${report.message}.${plexNote}`, ok: false };
}

/** Read the stored Plex settings, falling back to what setup stored when the page has not saved them yet. */
const TOKEN_AGAIN = "Enter the owner token again: this address is not the Plex server the saved token belongs to.";
const KEY_AGAIN = "Enter the API key again: the saved key stays with the address it was saved for.";

async function storedPlex(
  c: Context<AppEnv>,
  i: Integrations,
): Promise<{ url: string | null; token: string | null; machineIdentifier: string | null }> {
  if (i.plex) return { url: i.plex.url, token: i.plex.token, machineIdentifier: i.plex.machineIdentifier };
  const setup = await getPlexServer(c.get("deps"));
  return {
    url: setup?.url ?? null,
    token: setup?.ownerToken ?? null,
    machineIdentifier: setup?.machineIdentifier ?? null,
  };
}

async function ytdlpVersion(c: Context<AppEnv>, path: string): Promise<YtdlpVersion> {
  const deps = c.get("deps");
  return deps.coordination.cache.wrap(ytdlpVersionCacheKey(path), YTDLP_VERSION_TTL_MS, () =>
    readYtdlpVersion(path, deps.integrationTimeoutMs),
  );
}

async function showIntegrationsPage(
  c: Context<AppEnv>,
  extra: {
    saved?: string;
    savedOk?: boolean;
    form?: { name: IntegrationForm; errors: FieldErrors; values: FormValues };
    report?: { service: TestableService; report: ConnectionReport };
    /** The Authorization header of a webhook secret just made: the one answer that shows it. */
    newWebhookHeader?: string;
  } = {},
  status = 200,
) {
  const integrations = await getIntegrations(c.get("deps"));
  const view = toIntegrationsView(integrations);
  if (!view.plex) {
    const setup = await storedPlex(c, integrations);
    if (setup.url || setup.token)
      view.plex = {
        url: setup.url ?? "",
        hasToken: Boolean(setup.token),
        machineIdentifier: setup.machineIdentifier,
        name: null,
      };
  }
  const [ytdlp, checks] = await Promise.all([
    ytdlpVersion(c, integrations.ytdlpPath),
    Promise.all(
      integrations.libraries
        .filter((l) => l.folder)
        .map(async (l) => [l.sectionKey, (await checkFolder(l.folder)).warning] as const),
    ),
  ]);
  const props: IntegrationsPageProps = {
    view,
    csrf: c.get("csrfToken"),
    ytdlp,
    folderWarnings: Object.fromEntries(checks),
    ...(integrations.seerr ? { seerrExtras: await seerrExtras(c, extra.newWebhookHeader) } : {}),
    ...extra,
  };
  return renderPage(c, TITLE, <IntegrationsPage {...props} />, { status });
}

async function seerrExtras(c: Context<AppEnv>, newHeader: string | undefined): Promise<SeerrExtras> {
  const deps = c.get("deps");
  const [secret, last, importPlexUsers] = await Promise.all([
    storedWebhookSecret(deps),
    lastWebhookDelivery(deps),
    importAllowed(deps),
  ]);
  const origin = deps.config.publicUrl ? new URL(deps.config.publicUrl).origin : new URL(c.req.url).origin;
  return {
    webhookUrl: origin + SEERR_WEBHOOK_PATH,
    // Shown whole only in the answer that made it, like an API token; afterwards only its start, to recognise it.
    authHeader: newHeader ?? (secret ? `${webhookAuthHeader(secret).slice(0, 11)}…` : null),
    authHeaderNew: newHeader !== undefined,
    template: SEERR_WEBHOOK_TEMPLATE,
    lastDelivery: last ? { type: last.type, at: formatDate(last.at) } : null,
    importPlexUsers,
  };
}

/** Answer a connection test: the result fragment for htmx, the whole page (result in its card) otherwise. */
function answerTest(c: Context<AppEnv>, service: TestableService, report: ConnectionReport, status = 200) {
  if (isFragmentRequest(c)) return c.html(<ConnectionResult report={report} />, status as 200);
  return showIntegrationsPage(c, { report: { service, report } }, status);
}

/** A form that failed validation: in a test, a readable failure; in a save, the page with the fields marked. */
function invalidTest(c: Context<AppEnv>, service: TestableService, errors: FieldErrors, values: FormValues) {
  if (isFragmentRequest(c)) {
    return c.html(
      <ConnectionResult report={{ ok: false, message: `Not tested: ${Object.values(errors).join(" ")}` }} />,
      422,
    );
  }
  return showIntegrationsPage(c, { form: { name: service, errors, values: withoutSecrets(values) } }, 422);
}

/** Drop secret fields from echoed form values, so a typed secret never comes back in HTML. */
function withoutSecrets(values: FormValues): FormValues {
  const out: FormValues = {};
  for (const [k, v] of Object.entries(values)) if (!/token|apikey/i.test(k)) out[k] = v;
  return out;
}

function invalidSave(c: Context<AppEnv>, name: IntegrationForm, errors: FieldErrors, values: FormValues) {
  return showIntegrationsPage(c, { form: { name, errors, values: withoutSecrets(values) } }, 422);
}

function savedRedirect(c: Context<AppEnv>, what: string) {
  return redirect(c, `/admin/integrations?saved=${what}`);
}

/** After a save, keep its connection test's result for this admin and send the browser back to the page. */
async function savedAndTested(c: Context<AppEnv>, service: TestableService, report: ConnectionReport) {
  const id = crypto.randomUUID();
  const result: SaveResult = { userId: c.get("user")!.id, service, report };
  await c.get("deps").coordination.cache.set(resultKey(id), result, RESULT_TTL_MS);
  return redirect(c, `/admin/integrations?saved=${service}&result=${id}#${service}`);
}

/** The result of a save this admin made, if the page's address names one that is still kept. */
async function savedResult(c: Context<AppEnv>): Promise<SaveResult | undefined> {
  const id = c.req.query("result");
  if (!id || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const result = await c.get("deps").coordination.cache.get<SaveResult>(resultKey(id));
  return result && result.userId === c.get("user")!.id ? result : undefined;
}

/** Admin routes for the integrations page: save, test and remove each service's settings. */
export function integrationRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/admin/integrations", allow("admin"), async (c) => {
    const result = await savedResult(c);
    if (!result) return showIntegrationsPage(c, { saved: SAVED[c.req.query("saved") ?? ""] });
    const notice = savedNotice(result.service, result.report);
    return showIntegrationsPage(c, {
      saved: notice.text,
      savedOk: notice.ok,
      report: { service: result.service, report: result.report },
    });
  });

  // A form that was refused is answered under its own address; a reload or a visit there finds the page.
  for (const name of ["plex", "seerr", "kuma", "ytdlp", "libraries"] as const) {
    app.get(`/admin/integrations/${name}`, allow("admin"), (c) => c.redirect(`/admin/integrations#${name}`, 303));
  }

  app.post(
    "/admin/integrations/plex",
    allow("admin"),
    form(plexForm, (c, e, v) => invalidSave(c, "plex", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const stored = await storedPlex(c, await getIntegrations(deps));
      const data = c.req.valid("form");
      if (!data.plexToken && !stored.token)
        return invalidSave(c, "plex", { plexToken: "Enter the owner token: none is saved yet." }, formValues(c));
      if (!data.plexToken && !(await storedPlexTokenMayGoTo(deps, data.plexUrl, stored))) {
        return invalidSave(c, "plex", { plexToken: TOKEN_AGAIN }, formValues(c));
      }
      let report: ConnectionReport;
      try {
        const connection = await connectAndSavePlex(deps, actor(c), {
          url: data.plexUrl,
          token: data.plexToken,
          storedToken: stored.token,
        });
        report = {
          ok: true,
          title: `Connected to Plex server “${connection.name}”.`,
          facts: [
            ["Version", connection.version],
            ["Libraries", String(connection.sections.length)],
            ["Machine identifier", connection.machineIdentifier],
          ],
          warnings: [],
        };
      } catch (err) {
        if (!(err instanceof ConnectionFailure)) throw err;
        // Like every integration: what the admin typed is saved, and the page says plainly that the test failed.
        await savePlexUnreached(deps, actor(c), { url: data.plexUrl, token: data.plexToken, why: err.message });
        report = { ok: false, message: err.message };
      }
      return savedAndTested(c, "plex", report);
    },
  );

  app.post(
    "/admin/integrations/plex/test",
    allow("admin"),
    form(plexForm, (c, e, v) => invalidTest(c, "plex", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const stored = await storedPlex(c, await getIntegrations(deps));
      const data = c.req.valid("form");
      const token = data.plexToken || stored.token;
      if (!token)
        return answerTest(c, "plex", { ok: false, message: "Enter the owner token first: none is saved yet." }, 422);
      if (!data.plexToken && !(await storedPlexTokenMayGoTo(deps, data.plexUrl, stored))) {
        return answerTest(c, "plex", { ok: false, message: TOKEN_AGAIN }, 422);
      }
      return answerTest(c, "plex", await testPlex(deps, { url: data.plexUrl, token }, stored.machineIdentifier));
    },
  );

  app.post(
    "/admin/integrations/seerr",
    allow("admin"),
    form(seerrForm, (c, e, v) => invalidSave(c, "seerr", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const current = await getIntegrations(deps);
      const data = c.req.valid("form");
      if (!data.seerrApiKey && !current.seerr)
        return invalidSave(c, "seerr", { seerrApiKey: "Enter the API key: none is saved yet." }, formValues(c));
      if (!data.seerrApiKey && !sameOrigin(current.seerr?.url, data.seerrUrl))
        return invalidSave(c, "seerr", { seerrApiKey: KEY_AGAIN }, formValues(c));
      await saveSeerr(deps, actor(c), { url: data.seerrUrl, apiKey: data.seerrApiKey });
      const apiKey = data.seerrApiKey || current.seerr!.apiKey;
      return savedAndTested(c, "seerr", await testSeerr(deps, { url: data.seerrUrl, apiKey }));
    },
  );

  app.post(
    "/admin/integrations/seerr/test",
    allow("admin"),
    form(seerrForm, (c, e, v) => invalidTest(c, "seerr", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const current = await getIntegrations(deps);
      const data = c.req.valid("form");
      const apiKey = data.seerrApiKey || current.seerr?.apiKey;
      if (!apiKey)
        return answerTest(c, "seerr", { ok: false, message: "Enter the API key first: none is saved yet." }, 422);
      if (!data.seerrApiKey && !sameOrigin(current.seerr?.url, data.seerrUrl))
        return answerTest(c, "seerr", { ok: false, message: KEY_AGAIN }, 422);
      return answerTest(c, "seerr", await testSeerr(deps, { url: data.seerrUrl, apiKey }));
    },
  );

  app.post(
    "/admin/integrations/kuma",
    allow("admin"),
    form(kumaForm, (c, e, v) => invalidSave(c, "kuma", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const data = c.req.valid("form");
      const d = data;
      // The optional key stays with the address it was saved for: a new address without a new key drops it.
      const moved = !sameOrigin((await getIntegrations(deps)).kuma?.url, d.kumaUrl);
      await saveKuma(deps, actor(c), {
        url: d.kumaUrl,
        slug: d.kumaSlug,
        apiKey: d.kumaApiKey,
        clearApiKey: (d.kumaClearApiKey || moved) && !d.kumaApiKey,
      });
      const saved = (await getIntegrations(deps)).kuma;
      return savedAndTested(
        c,
        "kuma",
        await testKuma(deps, { url: d.kumaUrl, slug: d.kumaSlug, apiKey: saved?.apiKey ?? null }),
      );
    },
  );

  app.post(
    "/admin/integrations/kuma/test",
    allow("admin"),
    form(kumaForm, (c, e, v) => invalidTest(c, "kuma", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const current = await getIntegrations(deps);
      const data = c.req.valid("form");
      const d = data;
      const apiKey =
        d.kumaApiKey ||
        (d.kumaClearApiKey || !sameOrigin(current.kuma?.url, d.kumaUrl) ? null : (current.kuma?.apiKey ?? null));
      return answerTest(c, "kuma", await testKuma(deps, { url: d.kumaUrl, slug: d.kumaSlug, apiKey }));
    },
  );

  app.post("/admin/integrations/seerr/webhook-secret", allow("admin"), async (c) => {
    const deps = c.get("deps");
    const secret = await rotateWebhookSecret(deps);
    await audit(deps, actor(c), "settings.seerr_webhook_secret", undefined, {});
    return showIntegrationsPage(c, { saved: "seerr-webhook", newWebhookHeader: webhookAuthHeader(secret) });
  });

  const importSchema = z.object({ importPlexUsers: z.literal("1").optional() });
  const importInvalid: OnInvalid = (c, errors, values) => invalidSave(c, "seerr", errors, values);
  app.post("/admin/integrations/seerr/import", allow("admin"), form(importSchema, importInvalid), async (c) => {
    const deps = c.get("deps");
    const on = c.req.valid("form").importPlexUsers === "1";
    await setImportAllowed(deps, on);
    await audit(deps, actor(c), "settings.seerr_import", undefined, { importPlexUsers: on });
    return redirect(c, "/admin/integrations?saved=seerr-import#seerr-import");
  });

  for (const service of ["seerr", "kuma"] as const) {
    app.post(`/admin/integrations/${service}/remove`, allow("admin"), async (c) => {
      await removeService(c.get("deps"), actor(c), service);
      return savedRedirect(c, `${service}-removed`);
    });
  }

  app.post(
    "/admin/integrations/ytdlp",
    allow("admin"),
    form(ytdlpForm, (c, e, v) => invalidSave(c, "ytdlp", e, v)),
    async (c) => {
      const data = c.req.valid("form");
      const deps = c.get("deps");
      await saveYtdlp(deps, actor(c), data.ytdlpPath);
      return savedAndTested(c, "ytdlp", await testYtdlp(deps, data.ytdlpPath));
    },
  );

  app.post(
    "/admin/integrations/ytdlp/test",
    allow("admin"),
    form(ytdlpForm, (c, e, v) => invalidTest(c, "ytdlp", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const data = c.req.valid("form");
      const report = await testYtdlp(deps, data.ytdlpPath);
      // A fresh answer replaces the one the page shows.
      await deps.coordination.cache.delete(ytdlpVersionCacheKey(data.ytdlpPath));
      return answerTest(c, "ytdlp", report);
    },
  );

  app.post(
    "/admin/integrations/libraries",
    allow("admin"),
    form(foldersForm, (c, e, v) => invalidSave(c, "libraries", e, v)),
    async (c) => {
      const deps = c.get("deps");
      const { libraries } = await getIntegrations(deps);
      const data: Record<string, string | undefined> = c.req.valid("form");
      const folders: Record<string, string> = {};
      for (const l of libraries) {
        const v = data[`folder-${l.sectionKey}`];
        if (v !== undefined) folders[l.sectionKey] = v;
      }
      await saveLibraryFolders(deps, actor(c), folders);
      return savedRedirect(c, "libraries");
    },
  );

  return app;
}
