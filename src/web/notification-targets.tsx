import { Hono, type Context } from "hono";
import { z } from "zod";
import {
  DeliveriesPage,
  DeliveriesTable,
  DeliveryState,
  KIND_LABELS,
  NewTargetPage,
  NotifySwitches,
  TargetCard,
  TargetList,
  TargetsPage,
  TestResult,
  type TargetView,
} from "../../views/pages/notification-targets";
import type { TargetConfig } from "../integrations/outbound/types";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { eventsForRole, NOTIFICATION_EVENTS, switchableEvents } from "../services/notification-events";
import { saveNotificationSwitches } from "../services/notifications";
import { clientIp } from "../server/request";
import { findMutedNotifications } from "../store/users";
import {
  createNotificationTarget,
  describeTargetConfig,
  kickDeliveryWorker,
  readTargetConfig,
  removeNotificationTarget,
  sendTestNotification,
  TargetError,
  updateTargetSettings,
  type TestSendResult,
} from "../services/outbound-notifications";
import {
  countDeliveriesByStatus,
  findDeliveryById,
  findNotificationTargetForUser,
  latestDeliveryByTarget,
  listNotificationTargetsByUser,
  listRecentDeliveries,
  retryDeliveryNow,
  type NotificationTarget,
  type TargetKind,
} from "../store/notification-targets";
import { form, formValues, type FieldErrors, type FormValues } from "./forms";
import { isFragmentRequest, renderPage } from "../server/htmx";

const KINDS = ["webhook", "discord", "ntfy", "email"] as const satisfies readonly TargetKind[];
const EVENT_IDS: string[] = NOTIFICATION_EVENTS.map((e) => e.id);
// Fields whose values are never sent back to the browser, not even on a form with errors.
const SECRET_FIELDS: Record<TargetKind, string[]> = {
  webhook: ["authorization"],
  discord: ["url"],
  ntfy: ["token"],
  email: ["password"],
};

function isWebUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

const name = z
  .string({ error: "Give it a name." })
  .trim()
  .min(1, "Give it a name.")
  .max(60, "Use at most 60 characters.");
const webUrl = (what: string) =>
  z
    .string({ error: `Enter the ${what}.` })
    .trim()
    .min(1, `Enter the ${what}.`)
    .max(2000, "Use at most 2000 characters.")
    .refine(isWebUrl, "Enter an http:// or https:// URL.")
    .refine(
      (v) => !isWebUrl(v) || (!new URL(v).username && !new URL(v).password),
      "Leave user names and passwords out of the URL.",
    );
const optionalLine = (max: number) =>
  z
    .string()
    .max(max, `Use at most ${max} characters.`)
    .refine((v) => !/[\r\n]/.test(v), "Use a single line.")
    .optional()
    .transform((v) => v?.trim() || undefined);
const events = z
  .union([z.string(), z.array(z.string())], { error: "Choose at least one event." })
  .transform((v) => [v].flat())
  .refine((v) => v.length > 0, "Choose at least one event.")
  .refine((v) => v.every((e) => EVENT_IDS.includes(e)), "Unknown event.");

// One form per kind; each turns into the name, the events and the kind's config.
const forms = {
  webhook: z.object({ name, url: webUrl("webhook URL"), authorization: optionalLine(1000), events }).transform((f) => ({
    name: f.name,
    events: f.events,
    target: {
      kind: "webhook",
      config: { url: f.url, ...(f.authorization ? { authorization: f.authorization } : {}) },
    } satisfies TargetConfig,
  })),
  discord: z.object({ name, url: webUrl("Discord webhook URL"), events }).transform((f) => ({
    name: f.name,
    events: f.events,
    target: { kind: "discord", config: { url: f.url } } satisfies TargetConfig,
  })),
  ntfy: z
    .object({
      name,
      server: webUrl("ntfy server URL"),
      topic: z
        .string({ error: "Enter the topic." })
        .trim()
        .regex(/^[-_A-Za-z0-9]{1,64}$/, "Use 1 to 64 letters, digits, dashes or underscores."),
      token: optionalLine(200),
      events,
    })
    .transform((f) => ({
      name: f.name,
      events: f.events,
      target: {
        kind: "ntfy",
        config: { server: f.server.replace(/\/+$/, ""), topic: f.topic, ...(f.token ? { token: f.token } : {}) },
      } satisfies TargetConfig,
    })),
  email: z
    .object({
      name,
      host: z
        .string({ error: "Enter the SMTP server." })
        .trim()
        .min(1, "Enter the SMTP server.")
        .max(253, "Use at most 253 characters.")
        .regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, "Enter a host name or an IP address."),
      port: z
        .string({ error: "Enter the port." })
        .trim()
        .regex(/^\d{1,5}$/, "Enter the port number.")
        .transform(Number)
        .refine((n) => n >= 1 && n <= 65535, "Use a port between 1 and 65535."),
      security: z.enum(["tls", "starttls", "none"], { error: "Choose how to encrypt the connection." }),
      user: optionalLine(200),
      password: optionalLine(500),
      from: z.email({ error: "Enter the sender address." }).max(254),
      to: z.email({ error: "Enter the address to send to." }).max(254),
      events,
    })
    .refine((f) => f.user || !f.password, {
      message: "Enter the user name that goes with the password.",
      path: ["user"],
    })
    .transform((f) => ({
      name: f.name,
      events: f.events,
      target: {
        kind: "email",
        config: {
          host: f.host,
          port: f.port,
          security: f.security,
          from: f.from,
          to: f.to,
          ...(f.user ? { user: f.user } : {}),
          ...(f.password ? { password: f.password } : {}),
        },
      } satisfies TargetConfig,
    })),
} as const;

const switchesForm = z.object({
  on: z
    .union([z.string(), z.array(z.string())], { error: "Unknown kind of notification." })
    .optional()
    .transform((v) => (v === undefined ? [] : [v].flat()))
    .refine((v) => v.every((e) => EVENT_IDS.includes(e)), "Unknown kind of notification."),
});

const updateForm = z.object({ name, events, enabled: z.string().optional().transform(Boolean) });

function me(c: Context<AppEnv>) {
  return c.get("user")!;
}

function targetView(c: Context<AppEnv>, t: NotificationTarget, last: TargetView["last"]): TargetView {
  let summary: [string, string][];
  try {
    summary = describeTargetConfig(readTargetConfig(c.get("deps"), t));
  } catch {
    summary = [["Settings", "unreadable (was the secret key changed?); delete this target and add it again"]];
  }
  return {
    id: t.id,
    kind: t.kind,
    name: t.name,
    events: t.events,
    enabled: t.enabled,
    summary,
    ...(last ? { last } : {}),
  };
}

async function loadTargetViews(c: Context<AppEnv>): Promise<TargetView[]> {
  const deps = c.get("deps");
  const targets = await listNotificationTargetsByUser(deps.database, me(c).id);
  const last = await latestDeliveryByTarget(
    deps.database,
    targets.map((t) => t.id),
  );
  return targets.map((t) => targetView(c, t, last.get(t.id)));
}

async function switchesView(
  c: Context<AppEnv>,
  extra: { errors?: FieldErrors; saved?: boolean } = {},
): Promise<Parameters<typeof NotifySwitches>[0]> {
  const user = me(c);
  return {
    events: switchableEvents(user.role),
    muted: await findMutedNotifications(c.get("deps").database, user.id),
    csrf: c.get("csrfToken"),
    ...extra,
  };
}

async function showTargetsPage(
  c: Context<AppEnv>,
  opts: { results?: Map<string, TestSendResult>; message?: string; status?: number } = {},
) {
  const props = {
    targets: await loadTargetViews(c),
    events: eventsForRole(me(c).role),
    switches: await switchesView(c),
    csrf: c.get("csrfToken"),
    results: opts.results,
    message: opts.message,
  };
  return renderPage(c, "Where your notifications go", <TargetsPage {...props} />, {
    status: opts.status ?? 200,
    fragment: <TargetList {...props} />,
  });
}

function showNewTargetPage(
  c: Context<AppEnv>,
  kind: TargetKind,
  extra: { errors?: FieldErrors; values?: FormValues } = {},
  status = 200,
) {
  const values = extra.values
    ? Object.fromEntries(Object.entries(extra.values).filter(([k]) => !SECRET_FIELDS[kind].includes(k)))
    : undefined;
  return renderPage(
    c,
    `Add ${KIND_LABELS[kind]}`,
    <NewTargetPage
      kind={kind}
      events={eventsForRole(me(c).role)}
      csrf={c.get("csrfToken")}
      errors={extra.errors}
      values={values}
    />,
    {
      status,
    },
  );
}

const MESSAGES: Record<string, string> = {
  added: "Added. Use “Send test” to check it works.",
  deleted: "Deleted.",
  switches: "Saved which notifications you get.",
};

async function showDeliveriesPage(c: Context<AppEnv>, message?: string, status = 200) {
  const deps = c.get("deps");
  const [rows, counts] = await Promise.all([
    listRecentDeliveries(deps.database, 100),
    countDeliveriesByStatus(deps.database),
  ]);
  const props = { rows, counts, csrf: c.get("csrfToken"), message };
  return renderPage(c, "Outbound notifications", <DeliveriesPage {...props} />, {
    status,
    fragment: <DeliveriesTable {...props} />,
  });
}

/** Routes of each user's outbound notification targets, under /account. */
export function notificationTargetRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/account/notifications", allow("user"), (c) =>
    showTargetsPage(c, { message: MESSAGES[c.req.query("saved") ?? ""] }),
  );

  const checkSwitches = form(switchesForm, async (c, errors) => {
    const view = <NotifySwitches {...(await switchesView(c, { errors }))} />;
    return renderPage(c, "Where your notifications go", view, { status: 422 });
  });
  app.post("/account/notification-switches", allow("user"), checkSwitches, async (c) => {
    const user = me(c);
    await saveNotificationSwitches(c.get("deps"), { user, ip: clientIp(c) }, user, c.req.valid("form").on);
    if (!isFragmentRequest(c)) return c.redirect("/account/notifications?saved=switches", 303);
    return c.html(<NotifySwitches {...(await switchesView(c, { saved: true }))} />);
  });

  app.get("/account/new-target/:kind", allow("user"), (c) => {
    const kind = KINDS.find((k) => k === c.req.param("kind"));
    if (!kind) return c.notFound();
    return showNewTargetPage(c, kind);
  });

  // Each kind has its own form; the kind in the address picks the validator (an unknown kind is a 404).
  const kindForms = new Map(
    KINDS.map((kind) => [
      kind,
      form(forms[kind], (c, errors, values) => showNewTargetPage(c, kind, { errors, values }, 422)),
    ]),
  );
  app.post(
    "/account/new-target/:kind",
    allow("user"),
    (c, next) => {
      const check = kindForms.get(c.req.param("kind") as TargetKind);
      return check ? check(c, next) : Promise.resolve(c.notFound());
    },
    async (c) => {
      const kind = KINDS.find((k) => k === c.req.param("kind"))!;
      const data = c.req.valid("form" as never) as z.output<(typeof forms)[typeof kind]>;
      try {
        await createNotificationTarget(c.get("deps"), me(c), data);
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        return showNewTargetPage(c, kind, { errors: { [err.field]: err.message }, values: formValues(c) }, 422);
      }
      return c.redirect("/account/notifications?saved=added", 303);
    },
  );

  const targetCard = async (
    c: Context<AppEnv>,
    t: NotificationTarget,
    extra: { errors?: FieldErrors; values?: FormValues; saved?: boolean },
    status = 200,
  ) => {
    const last = (await latestDeliveryByTarget(c.get("deps").database, [t.id])).get(t.id);
    const view = (
      <TargetCard t={targetView(c, t, last)} events={eventsForRole(me(c).role)} csrf={c.get("csrfToken")} {...extra} />
    );
    return renderPage(c, "Where your notifications go", view, { status });
  };
  const checkUpdateForm = form(updateForm, async (c, errors, values) => {
    const target = await findNotificationTargetForUser(c.get("deps").database, c.req.param("id")!, me(c).id);
    if (!target) return c.notFound();
    return targetCard(c, target, { errors, values }, 422);
  });
  app.post("/account/notifications/:id", allow("user"), checkUpdateForm, async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const target = await findNotificationTargetForUser(deps.database, c.req.param("id"), user.id);
    if (!target) return c.notFound();
    const card = (t: NotificationTarget, extra: Parameters<typeof targetCard>[2], status = 200) =>
      targetCard(c, t, extra, status);
    try {
      await updateTargetSettings(deps, user, target.id, c.req.valid("form"));
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      return card(target, { errors: { [err.field]: err.message }, values: formValues(c) }, 422);
    }
    if (!isFragmentRequest(c)) return c.redirect("/account/notifications", 303);
    return card((await findNotificationTargetForUser(deps.database, target.id, user.id)) ?? target, { saved: true });
  });

  app.post("/account/notifications/:id/delete", allow("user"), async (c) => {
    const deleted = await removeNotificationTarget(c.get("deps"), me(c), c.req.param("id"));
    if (!deleted) return c.notFound();
    if (!isFragmentRequest(c)) return c.redirect("/account/notifications?saved=deleted", 303);
    return showTargetsPage(c, { message: MESSAGES.deleted });
  });

  app.post("/account/notifications/:id/test", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const target = await findNotificationTargetForUser(deps.database, c.req.param("id"), user.id);
    if (!target) return c.notFound();
    const result = await sendTestNotification(deps, user, target);
    deps.log.info("outbound: test sent", { target: target.id, kind: target.kind, ok: result.ok });
    if (isFragmentRequest(c)) {
      // The test is now the target's latest delivery: its line on the card changes with the result.
      const last = (await latestDeliveryByTarget(deps.database, [target.id])).get(target.id);
      return c.html(
        <>
          <TestResult id={target.id} result={result} />
          <hx-partial hx-target={`#last-delivery-${target.id}`} hx-swap="innerHTML">
            <DeliveryState d={last} />
          </hx-partial>
        </>,
      );
    }
    return showTargetsPage(c, { results: new Map([[target.id, result]]) });
  });

  return app;
}

/** Admin routes of outbound notifications: every delivery, and sending one again now. */
export function deliveryRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/admin/notifications", allow("admin"), (c) =>
    showDeliveriesPage(
      c,
      c.req.query("retried") === "1" ? "Queued; the delivery worker is sending it now." : undefined,
    ),
  );

  app.post("/admin/notifications/:id/retry", allow("admin"), async (c) => {
    const deps = c.get("deps");
    const delivery = await findDeliveryById(deps.database, c.req.param("id"));
    if (!delivery) return c.notFound();
    const queued = await retryDeliveryNow(deps.database, delivery.id, new Date());
    if (!queued)
      return showDeliveriesPage(
        c,
        delivery.status === "sent" ? "That delivery was already sent." : "That delivery is being sent right now.",
        409,
      );
    kickDeliveryWorker(deps);
    if (!isFragmentRequest(c)) return c.redirect("/admin/notifications?retried=1", 303);
    return showDeliveriesPage(c, "Queued; the delivery worker is sending it now.");
  });

  return app;
}
