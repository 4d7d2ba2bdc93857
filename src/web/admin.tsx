import { Hono, type Context } from "hono";
import { z } from "zod";
import {
  AccountSettingsPage,
  AdminHome,
  AuditPage,
  NewUserPage,
  type SeerrChoices,
  SeerrLinkCard,
  UserEditPage,
  UsersPage,
  UsersTable,
} from "../../views/pages/admin";
import { type BackupsView, JobsPage, JobsTable } from "../../views/pages/jobs";
import { BACKUP_JOB } from "../app/jobs";
import { allow } from "../server/access";
import type { AppDeps, AppEnv } from "../app/deps";
import { clientIp } from "../server/request";
import { AccountError, createLocalUser, invitePlexUser, usernameRule } from "../services/accounts";
import { AUDIT_ACTIONS, audit, type Actor } from "../services/audit";
import { getAuthSettings, getPlexServer, saveAuthSettings } from "../services/auth-settings";
import { getOidcSettings, saveOidcSettings } from "../services/oidc";
import { getNotice, setNotice } from "../services/notice";
import { announce } from "../services/notifications";
import { PERMISSIONS } from "../services/permissions";
import { configuredSeerr } from "../services/seerr";
import { clearSeerrLink, linkSeerrUserByHand, listAllSeerrUsers, SeerrLinkRefused } from "../services/seerr-users";
import { IntegrationError } from "../integrations/http";
import { findSeerrLink } from "../store/media-requests";
import {
  deleteUser,
  disableUser,
  enableUser,
  renameUser,
  resetUserPassword,
  updateUserAccess,
} from "../services/users";
import { listAuditEntries } from "../store/audit";
import { countActiveUsers, findUserById, listUsers, type User } from "../store/users";
import { newPassword } from "./auth";
import { form, formValues, type FieldErrors, type FormValues, type OnInvalid, pageOf } from "./forms";
import { isFragmentRequest, renderPage } from "../server/htmx";

const PAGE_SIZE = 25;

const quota = (label: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 1e9) {
        ctx.addIssue({ code: "custom", message: `${label} must be a number of 0 or more, or empty for no limit.` });
        return z.NEVER;
      }
      return n;
    });

const accessForm = z.object({
  permissions: z
    .union([z.enum(PERMISSIONS), z.array(z.enum(PERMISSIONS))], { error: "Unknown permission." })
    .optional()
    .transform((v) => (v === undefined ? [] : [v].flat())),
  requestsPerDay: quota("Requests per day").transform((v) => (v === null ? null : Math.floor(v))),
  requestsPerWeek: quota("Requests per week").transform((v) => (v === null ? null : Math.floor(v))),
  downloadsPerHour: quota("Downloads per hour").transform((v) => (v === null ? null : Math.floor(v))),
  downloadsPerDay: quota("Downloads per day").transform((v) => (v === null ? null : Math.floor(v))),
  storageCapGiB: quota("Storage cap"),
});

const userForm = accessForm.extend({ role: z.enum(["admin", "user"], { error: "Choose member or administrator." }) });

const newUserForm = z.object({
  username: usernameRule,
  displayName: z.string().trim().max(80, "Use at most 80 characters.").optional(),
  password: newPassword,
  role: z.enum(["admin", "user"], { error: "Choose member or administrator." }),
});

const profileForm = z.object({
  displayName: z
    .string({ error: "Enter a display name." })
    .trim()
    .min(1, "Enter a display name.")
    .max(80, "Use at most 80 characters."),
});

const seerrLinkForm = z
  .object({
    op: z.enum(["set", "clear"], { error: "Unknown action." }).default("set"),
    seerrUserId: z.string().optional(),
  })
  .transform((f, ctx) => {
    if (f.op === "clear") return { op: "clear" as const };
    const raw = f.seerrUserId?.trim() ?? "";
    if (!/^[1-9]\d{0,8}$/.test(raw)) {
      ctx.addIssue({ code: "custom", path: ["seerrUserId"], message: "Choose a Seerr user from the list." });
      return z.NEVER;
    }
    return { op: "set" as const, seerrUserId: Number(raw) };
  });

const resetPasswordForm = z
  .object({ password: newPassword, confirm: z.string({ error: "Repeat the new password." }) })
  .refine((f) => f.password === f.confirm, { message: "The passwords differ.", path: ["confirm"] });

const oidcForm = z.object({
  issuer: z
    .string()
    .trim()
    .url("Enter the issuer URL, e.g. https://auth.example.com/")
    .refine((u) => /^https?:\/\//.test(u), "The issuer must be an http(s) URL."),
  clientId: z.string().trim().min(1, "Enter the client ID.").max(200),
  clientSecret: z.string().max(500).optional(),
  displayName: z.string().trim().max(40).optional(),
  groupClaim: z.string().trim().max(100).optional(),
  adminGroup: z.string().trim().max(200).optional(),
});

function quotasFrom(d: z.output<typeof accessForm>) {
  return {
    requestsPerDay: d.requestsPerDay,
    requestsPerWeek: d.requestsPerWeek,
    downloadsPerHour: d.downloadsPerHour,
    downloadsPerDay: d.downloadsPerDay,
    storageCapBytes: d.storageCapGiB === null ? null : Math.round(d.storageCapGiB * 1024 ** 3),
  };
}

/** Answer a change the accounts service refused (the last admin, a taken name) with the user's page and a 409. */
function refusedChange(c: Context<AppEnv>, target: User, self: boolean, err: unknown) {
  if (!(err instanceof AccountError)) throw err;
  return renderPage(
    c,
    target.displayName,
    <UserEditPage user={target} csrf={c.get("csrfToken")} message={err.message} self={self} />,
    { status: 409 },
  );
}

async function hasPlexServer(c: Context<AppEnv>): Promise<boolean> {
  return (await getPlexServer(c.get("deps"))) !== undefined;
}

function actor(c: Context<AppEnv>): Actor {
  return { user: c.get("user"), ip: clientIp(c) };
}

/** What the jobs page shows of backups, when the backup job is scheduled. */
async function backupsView(
  deps: AppDeps,
  extra: Pick<BackupsView, "errors" | "values" | "saved">,
): Promise<BackupsView | undefined> {
  if (!deps.jobs.has(BACKUP_JOB)) return undefined;
  const { backupDirectory, backupKeep, encrypting, listBackups } = await import("../services/backups");
  return {
    dir: backupDirectory(deps.config),
    keep: await backupKeep(deps),
    encrypted: encrypting(deps.config),
    database: deps.config.databaseUrl ? "PostgreSQL" : "SQLite",
    files: listBackups(deps.config),
    ...extra,
  };
}

/** Admin routes: overview, users, sign-in settings, audit log. */
export function adminRoutes() {
  const app = new Hono<AppEnv>();

  async function showAdminHome(
    c: Context<AppEnv>,
    extra: { errors?: FieldErrors; values?: FormValues; saved?: string } = {},
    status = 200,
  ) {
    const deps = c.get("deps");
    const [all, admins] = await Promise.all([
      countActiveUsers(deps.database),
      countActiveUsers(deps.database, "admin"),
    ]);
    const [plex, notice] = await Promise.all([getPlexServer(deps), getNotice(deps)]);
    return renderPage(
      c,
      "Administration",
      <AdminHome
        users={all}
        admins={admins}
        plexServer={plex?.name}
        notice={notice}
        csrf={c.get("csrfToken")}
        {...extra}
      />,
      { status },
    );
  }

  app.get("/admin", allow("admin"), (c) =>
    showAdminHome(c, {
      saved:
        c.req.query("saved") === "notice"
          ? "Notice updated."
          : c.req.query("saved") === "announce"
            ? "Announcement sent."
            : undefined,
    }),
  );

  const homeInvalid = (c: Context<AppEnv>, errors: FieldErrors, values: FormValues) =>
    showAdminHome(c, { errors, values }, 422);
  const noticeForm = z.object({
    text: z.string().trim().max(300, "Use at most 300 characters.").optional(),
    action: z.enum(["post", "clear"]).default("post"),
  });
  app.post("/admin/notice", allow("admin"), form(noticeForm, homeInvalid), async (c) => {
    const data = c.req.valid("form");
    const text = data.action === "clear" ? null : data.text || null;
    if (data.action === "post" && !text)
      return showAdminHome(c, { errors: { text: "Write the notice, or clear it." }, values: formValues(c) }, 422);
    await setNotice(c.get("deps"), actor(c), text);
    return c.redirect("/admin?saved=notice", 303);
  });

  const announceForm = z.object({
    title: z
      .string({ error: "Give it a title." })
      .trim()
      .min(1, "Give it a title.")
      .max(120, "Use at most 120 characters."),
    body: z
      .string({ error: "Write the message." })
      .trim()
      .min(1, "Write the message.")
      .max(1000, "Use at most 1000 characters."),
  });
  app.post("/admin/announce", allow("admin"), form(announceForm, homeInvalid), async (c) => {
    const { title, body } = c.req.valid("form");
    const sent = await announce(c.get("deps"), actor(c), title, body);
    c.get("deps").log.info("announcement sent", { recipients: sent });
    return c.redirect("/admin?saved=announce", 303);
  });

  app.get("/admin/users", allow("admin"), async (c) => {
    const q = (c.req.query("q") ?? "").slice(0, 100);
    const role = ["admin", "user"].includes(c.req.query("role") ?? "")
      ? (c.req.query("role") as "admin" | "user")
      : undefined;
    const status = ["active", "disabled", "deleted"].includes(c.req.query("status") ?? "")
      ? (c.req.query("status") as "active")
      : undefined;
    const page = pageOf(c);
    const { users, total } = await listUsers(c.get("deps").database, {
      search: q || undefined,
      role,
      status,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    const props = { users, total, page, pageSize: PAGE_SIZE, q, role: role ?? "", status: status ?? "" };
    return renderPage(c, "Users", <UsersPage {...props} />, { fragment: <UsersTable {...props} /> });
  });

  app.get("/admin/new-user", allow("admin"), async (c) =>
    renderPage(c, "Add a user", <NewUserPage plex={await hasPlexServer(c)} csrf={c.get("csrfToken")} />),
  );

  const newUserInvalid = async (c: Context<AppEnv>, errors: FieldErrors, values: FormValues) =>
    renderPage(
      c,
      "Add a user",
      <NewUserPage plex={await hasPlexServer(c)} csrf={c.get("csrfToken")} errors={errors} values={values} />,
      { status: 422 },
    );
  app.post("/admin/new-user", allow("admin"), form(newUserForm, newUserInvalid), async (c) => {
    const deps = c.get("deps");
    const data = c.req.valid("form");
    try {
      const user = await createLocalUser(deps, { ...data, displayName: data.displayName || data.username }, actor(c));
      return c.redirect(`/admin/users/${user.id}?created=local`, 303);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return newUserInvalid(c, { [err.field ?? "_form"]: err.message }, formValues(c));
    }
  });

  const plexUserForm = z.object({
    plexName: z
      .string({ error: "Enter their Plex user name or email." })
      .trim()
      .min(2, "Enter their Plex user name or email.")
      .max(120, "Use at most 120 characters.")
      .regex(/^[^\s<>"]+$/, "A Plex user name or email has no spaces."),
    role: z.enum(["admin", "user"], { error: "Choose member or administrator." }),
  });
  const plexUserInvalid = async (c: Context<AppEnv>, errors: FieldErrors, values: FormValues) =>
    renderPage(
      c,
      "Add a user",
      <NewUserPage plex={await hasPlexServer(c)} csrf={c.get("csrfToken")} plexErrors={errors} plexValues={values} />,
      { status: 422 },
    );
  app.post("/admin/new-plex-user", allow("admin"), form(plexUserForm, plexUserInvalid), async (c) => {
    const deps = c.get("deps");
    try {
      const user = await invitePlexUser(deps, c.req.valid("form"), actor(c));
      return c.redirect(`/admin/users/${user.id}?created=plex`, 303);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return plexUserInvalid(c, { [err.field ?? "_form"]: err.message }, formValues(c));
    }
  });

  app.get("/admin/users/:id", allow("admin"), async (c) => {
    const user = await findUserById(c.get("deps").database, c.req.param("id"));
    if (!user) return c.notFound();
    const created = c.req.query("created");
    const saved =
      created === "local"
        ? `${user.displayName} was added. They sign in with the user name ${user.username} and the password you chose.`
        : created === "plex"
          ? `${user.displayName} was added. Their first sign-in with Plex as “${user.plexInvite ?? user.username}” claims this account.`
          : undefined;
    const seerrLink = (await findSeerrLink(c.get("deps").database, user.id)) ?? null;
    return renderPage(
      c,
      user.displayName,
      <UserEditPage
        user={user}
        csrf={c.get("csrfToken")}
        self={user.id === c.get("user")!.id}
        saved={saved}
        seerrLink={seerrLink}
      />,
    );
  });

  // The Seerr card: the stored link, and Seerr's user list to choose from (read here, never on the user page).
  async function seerrChoices(c: Context<AppEnv>): Promise<SeerrChoices> {
    const seerr = await configuredSeerr(c.get("deps"));
    if (!seerr) return { ok: false, message: "No Seerr is connected. Connect it on the integrations page first." };
    try {
      return { ok: true, users: await listAllSeerrUsers(seerr.client) };
    } catch (err) {
      if (!(err instanceof IntegrationError)) throw err;
      return { ok: false, message: `Seerr's user list could not be read: ${err.message}` };
    }
  }
  const seerrCard = async (
    c: Context<AppEnv>,
    user: User,
    extra: Pick<Parameters<typeof SeerrLinkCard>[0], "errors" | "message" | "saved"> = {},
    status = 200,
  ) => {
    const [link, choices] = await Promise.all([findSeerrLink(c.get("deps").database, user.id), seerrChoices(c)]);
    const card = <SeerrLinkCard userId={user.id} link={link} choices={choices} csrf={c.get("csrfToken")} {...extra} />;
    return renderPage(
      c,
      `${user.displayName}: Seerr account`,
      <section aria-label={`${user.displayName}: Seerr account`}>
        <p>
          <a href={`/admin/users/${user.id}`}>← {user.displayName}</a>
        </p>
        {card}
      </section>,
      { status, fragment: card },
    );
  };
  app.get("/admin/users/:id/seerr", allow("admin"), async (c) => {
    const user = await findUserById(c.get("deps").database, c.req.param("id"));
    if (!user) return c.notFound();
    return seerrCard(c, user, { saved: c.req.query("saved") === "1" ? "Saved." : undefined });
  });
  const checkSeerrLinkForm = form(seerrLinkForm, async (c, errors) => {
    const user = await findUserById(c.get("deps").database, c.req.param("id")!);
    if (!user) return c.notFound();
    return seerrCard(c, user, { errors }, 422);
  });
  app.post("/admin/users/:id/seerr", allow("admin"), checkSeerrLinkForm, async (c) => {
    const deps = c.get("deps");
    const user = await findUserById(deps.database, c.req.param("id"));
    if (!user) return c.notFound();
    if (user.status === "deleted") return seerrCard(c, user, { message: "This user was deleted." }, 409);
    const data = c.req.valid("form");
    let saved: string;
    if (data.op === "clear") {
      const cleared = await clearSeerrLink(deps, actor(c), user);
      saved = cleared ? "Link cleared. Their next request looks for them in Seerr again." : "There was no link.";
    } else {
      const seerr = await configuredSeerr(deps);
      if (!seerr) return seerrCard(c, user, { message: "No Seerr is connected." }, 409);
      try {
        const link = await linkSeerrUserByHand(deps, seerr.client, actor(c), user, data.seerrUserId);
        saved = `Linked by hand to Seerr user ${link.seerrName ?? link.seerrUserId}.`;
      } catch (err) {
        if (err instanceof SeerrLinkRefused) return seerrCard(c, user, { errors: { [err.field]: err.message } }, 422);
        if (err instanceof IntegrationError)
          return seerrCard(c, user, { message: `Seerr could not be asked: ${err.message}` }, 502);
        throw err;
      }
    }
    if (!isFragmentRequest(c)) return c.redirect(`/admin/users/${user.id}/seerr?saved=1`, 303);
    return seerrCard(c, user, { saved });
  });

  // The user a form under /admin/users/:id is about; a form for a missing user is a 404 before its fields count.
  const editTarget = async (c: Context<AppEnv>) => {
    const target = await findUserById(c.get("deps").database, c.req.param("id")!);
    return target && { target, self: target.id === c.get("user")!.id };
  };
  const checkUserForm = form(userForm, async (c, errors, values) => {
    const found = await editTarget(c);
    if (!found) return c.notFound();
    return renderPage(
      c,
      found.target.displayName,
      <UserEditPage user={found.target} csrf={c.get("csrfToken")} errors={errors} values={values} self={found.self} />,
      { status: 422 },
    );
  });
  app.post("/admin/users/:id", allow("admin"), checkUserForm, async (c) => {
    const deps = c.get("deps");
    const found = await editTarget(c);
    if (!found) return c.notFound();
    const { target, self } = found;
    const data = c.req.valid("form");
    try {
      const updated = await updateUserAccess(deps, actor(c), target, {
        role: data.role,
        permissions: data.permissions,
        quotas: quotasFrom(data),
      });
      return renderPage(
        c,
        updated.displayName,
        <UserEditPage user={updated} csrf={c.get("csrfToken")} saved self={self} />,
      );
    } catch (err) {
      return refusedChange(c, target, self, err);
    }
  });

  const editPage = (
    c: Context<AppEnv>,
    user: User,
    self: boolean,
    extra: Partial<Parameters<typeof UserEditPage>[0]>,
    status = 200,
  ) =>
    renderPage(c, user.displayName, <UserEditPage user={user} csrf={c.get("csrfToken")} self={self} {...extra} />, {
      status,
    });
  const checkProfileForm = form(profileForm, async (c, errors, values) => {
    const found = await editTarget(c);
    if (!found) return c.notFound();
    return editPage(c, found.target, found.self, { profileErrors: errors, profileValues: values }, 422);
  });
  app.post("/admin/users/:id/profile", allow("admin"), checkProfileForm, async (c) => {
    const deps = c.get("deps");
    const found = await editTarget(c);
    if (!found) return c.notFound();
    const { target, self } = found;
    const page = (user: User, extra: Partial<Parameters<typeof UserEditPage>[0]>, status = 200) =>
      editPage(c, user, self, extra, status);
    if (target.status === "deleted") return page(target, { message: "This user was deleted." }, 409);
    const updated = await renameUser(deps, actor(c), target, c.req.valid("form").displayName);
    return page(updated, { saved: "Name saved." });
  });

  const ownPassword = "Change your own password on your account page.";
  const checkPasswordForm = form(resetPasswordForm, async (c, errors) => {
    const found = await editTarget(c);
    if (!found) return c.notFound();
    if (found.self) return editPage(c, found.target, true, { message: ownPassword }, 409);
    return editPage(c, found.target, false, { passwordErrors: errors }, 422);
  });
  app.post("/admin/users/:id/password", allow("admin"), checkPasswordForm, async (c) => {
    const deps = c.get("deps");
    const found = await editTarget(c);
    if (!found) return c.notFound();
    const { target, self } = found;
    const page = (extra: Partial<Parameters<typeof UserEditPage>[0]>, status = 200) =>
      editPage(c, target, self, extra, status);
    if (self) return page({ message: ownPassword }, 409);
    try {
      await resetUserPassword(deps, actor(c), target, c.req.valid("form").password);
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      // Without a password the form is not on the page: say it above the editor.
      return page(
        target.passwordHash ? { passwordErrors: { [err.field ?? "_form"]: err.message } } : { message: err.message },
        422,
      );
    }
    return page({ saved: `New password set. ${target.displayName} was signed out everywhere.` });
  });

  const lifecycle = { disable: disableUser, enable: enableUser, delete: deleteUser } as const;
  for (const [action, run] of Object.entries(lifecycle)) {
    app.post(`/admin/users/:id/${action}`, allow("admin"), async (c) => {
      const deps = c.get("deps");
      const target = await findUserById(deps.database, c.req.param("id"));
      if (!target) return c.notFound();
      const self = target.id === c.get("user")!.id;
      if (self && action !== "enable") {
        return renderPage(
          c,
          target.displayName,
          <UserEditPage
            user={target}
            csrf={c.get("csrfToken")}
            message="You cannot disable or delete your own account."
            self
          />,
          { status: 409 },
        );
      }
      try {
        const updated = await run(deps, actor(c), target);
        if (!isFragmentRequest(c)) return c.redirect(`/admin/users/${target.id}`, 303);
        return c.html(<UserEditPage user={updated} csrf={c.get("csrfToken")} saved self={self} />);
      } catch (err) {
        return refusedChange(c, target, self, err);
      }
    });
  }

  app.get("/admin/settings/accounts", allow("admin"), async (c) => {
    const deps = c.get("deps");
    const [settings, oidc] = await Promise.all([getAuthSettings(deps), getOidcSettings(deps)]);
    const saved = c.req.query("saved") === "1" ? "Saved." : undefined;
    return renderPage(
      c,
      "Sign-in settings",
      <AccountSettingsPage settings={settings} oidc={oidc} csrf={c.get("csrfToken")} saved={saved} />,
    );
  });

  const settingsInvalid = async (c: Context<AppEnv>, errors: FieldErrors, values: FormValues) => {
    const deps = c.get("deps");
    const [settings, oidc] = await Promise.all([getAuthSettings(deps), getOidcSettings(deps)]);
    return renderPage(
      c,
      "Sign-in settings",
      <AccountSettingsPage settings={settings} oidc={oidc} csrf={c.get("csrfToken")} errors={errors} values={values} />,
      { status: 422 },
    );
  };
  const signInForm = accessForm.extend({ autoCreate: z.string().optional() });
  app.post("/admin/settings/accounts", allow("admin"), form(signInForm, settingsInvalid), async (c) => {
    const deps = c.get("deps");
    const data = c.req.valid("form");
    const next = {
      autoCreate: Boolean(data.autoCreate),
      defaultPermissions: data.permissions,
      defaultQuotas: quotasFrom(data),
    };
    await saveAuthSettings(deps, next);
    await audit(deps, actor(c), "settings.change", { type: "settings", id: "accounts" }, next);
    return c.redirect("/admin/settings/accounts?saved=1", 303);
  });

  app.post("/admin/settings/oidc", allow("admin"), form(oidcForm, settingsInvalid), async (c) => {
    const deps = c.get("deps");
    const d = c.req.valid("form");
    await saveOidcSettings(deps, {
      issuer: d.issuer,
      clientId: d.clientId,
      clientSecret: d.clientSecret ?? "",
      displayName: d.displayName ?? "",
      groupClaim: d.groupClaim ?? "",
      adminGroup: d.adminGroup ?? "",
    });
    await audit(
      deps,
      actor(c),
      "settings.change",
      { type: "settings", id: "oidc" },
      { issuer: d.issuer, clientId: d.clientId, credentialsUpdated: Boolean(d.clientSecret) },
    );
    return c.redirect("/admin/settings/accounts?saved=1", 303);
  });

  app.get("/admin/jobs", allow("admin"), async (c) =>
    renderPage(
      c,
      "Jobs",
      <JobsPage
        jobs={await c.get("deps").jobs.list()}
        csrf={c.get("csrfToken")}
        backups={await backupsView(c.get("deps"), { saved: c.req.query("saved") === "backups" })}
      />,
    ),
  );

  const backupKeepSchema = z.object({
    keep: z.coerce
      .number({ error: "Enter a number." })
      .int("Enter a whole number.")
      .min(1, "Keep at least 1 backup.")
      .max(1000, "Keep at most 1000 backups."),
  });
  const backupKeepInvalid: OnInvalid = async (c, errors, values) => {
    const deps = c.get("deps");
    return renderPage(
      c,
      "Jobs",
      <JobsPage
        jobs={await deps.jobs.list()}
        csrf={c.get("csrfToken")}
        backups={await backupsView(deps, { errors, values })}
      />,
      { status: 422 },
    );
  };
  app.post("/admin/backups/keep", allow("admin"), form(backupKeepSchema, backupKeepInvalid), async (c) => {
    const deps = c.get("deps");
    const data = c.req.valid("form");
    const { saveBackupKeep } = await import("../services/backups");
    await saveBackupKeep(deps, data.keep);
    await audit(deps, actor(c), "settings.change", { type: "settings", id: "backups" }, { keep: data.keep });
    return c.redirect("/admin/jobs?saved=backups#backups", 303);
  });

  app.post("/admin/jobs/:id/run", allow("admin"), async (c) => {
    const deps = c.get("deps");
    const id = c.req.param("id");
    if (!deps.jobs.has(id)) return c.notFound();
    const outcome = await deps.jobs.runNow(id);
    await audit(deps, actor(c), "job.run", { type: "job", id }, { outcome });
    const message =
      outcome === "skipped"
        ? `${id} is already running.`
        : outcome === "ok"
          ? `${id} finished.`
          : `${id} failed; see the error below.`;
    const table = <JobsTable jobs={await deps.jobs.list()} csrf={c.get("csrfToken")} message={message} />;
    return isFragmentRequest(c)
      ? c.html(table)
      : renderPage(c, "Jobs", <JobsPage jobs={await deps.jobs.list()} csrf={c.get("csrfToken")} message={message} />);
  });

  app.get("/admin/audit", allow("admin"), async (c) => {
    const asked = c.req.query("action") ?? "";
    const action = Object.hasOwn(AUDIT_ACTIONS, asked) ? asked : "";
    const page = pageOf(c);
    const { entries, total } = await listAuditEntries(c.get("deps").database, {
      action: action || undefined,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    return renderPage(
      c,
      "Audit log",
      <AuditPage
        entries={entries}
        total={total}
        page={page}
        pageSize={PAGE_SIZE}
        action={action}
        actions={AUDIT_ACTIONS}
      />,
    );
  });

  return app;
}
