import type { AuditEntry } from "../../src/store/audit";
import type { User } from "../../src/store/users";
import type { SeerrUser } from "../../src/integrations/seerr/types";
import { LINK_HOW_LABELS } from "../../src/services/seerr-users";
import type { SeerrLink } from "../../src/store/media-requests";
import type { AuthSettings } from "../../src/services/auth-settings";
import type { OidcSettings } from "../../src/services/oidc";
import { PERMISSION_LABELS, PERMISSIONS } from "../../src/services/permissions";
import type { FieldErrors, FormValues } from "../components/form";
import { Checkbox, CsrfField, Empty, Field, FormError, Pager, Select } from "../components/form";
import { plural, When } from "../components/format";

/** The admin overview: where each admin task lives. */
export function AdminHome(props: {
  users: number;
  admins: number;
  plexServer?: string;
  notice: string | null;
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  saved?: string;
}) {
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <div class="grid">
        <a class="card" href="/admin/users">
          <h2>Users</h2>
          <p class="muted">
            {plural(props.users, "account", "accounts")}, {plural(props.admins, "administrator", "administrators")}.
            Roles, permissions, quotas.
          </p>
        </a>
        <a class="card" href="/admin/settings/accounts">
          <h2>Sign-in settings</h2>
          <p class="muted">Who gets in, defaults for new accounts, single sign-on (OIDC).</p>
        </a>
        <a class="card" href="/admin/integrations">
          <h2>Integrations</h2>
          <p class="muted">Plex server, Seerr, Uptime Kuma, yt-dlp and download folders; test each connection.</p>
        </a>
        <a class="card" href="/admin/downloads">
          <h2>Downloads</h2>
          <p class="muted">Every download, approvals, storage per user and the queue's health.</p>
        </a>
        <a class="card" href="/admin/jobs">
          <h2>Jobs</h2>
          <p class="muted">Scheduled work: last and next run, run now.</p>
        </a>
        <a class="card" href="/admin/notifications">
          <h2>Outbound notifications</h2>
          <p class="muted">Deliveries to webhooks, Discord, ntfy and email: failures first, retry now.</p>
        </a>
        <a class="card" href="/admin/audit">
          <h2>Audit log</h2>
          <p class="muted">Sign-ins and every change to accounts and settings.</p>
        </a>
      </div>
      <p class="muted">
        {props.plexServer
          ? `Plex server: ${props.plexServer}`
          : "No Plex server chosen: people sign in with local accounts only."}
      </p>
      {props.saved ? (
        <div class="alert alert-ok" role="status">
          {props.saved}
        </div>
      ) : null}
      <div class="grid">
        <form class="card" method="post" action="/admin/notice">
          <CsrfField token={props.csrf} />
          <h2>Maintenance notice</h2>
          <p class="muted">Shown as a banner on every page, to everyone, at once.</p>
          <Field
            label="Notice"
            name="text"
            value={props.values?.text ?? props.notice ?? ""}
            error={props.errors?.text}
            maxlength={300}
            placeholder="Plex restarts tonight at 23:00 for an update."
          />
          <div class="row">
            <button class="btn btn-primary" type="submit" name="action" value="post">
              Post notice
            </button>
            {props.notice ? (
              <button class="btn" type="submit" name="action" value="clear">
                Clear notice
              </button>
            ) : null}
          </div>
        </form>
        <form class="card" method="post" action="/admin/announce">
          <CsrfField token={props.csrf} />
          <h2>Announcement</h2>
          <p class="muted">
            Sends a notification to every active user (and on to where each sends their notifications).
          </p>
          <Field label="Title" name="title" value={props.values?.title} error={props.errors?.title} maxlength={120} />
          <Field label="Message" name="body" value={props.values?.body} error={props.errors?.body} maxlength={1000} />
          <button class="btn btn-primary" type="submit">
            Send announcement
          </button>
        </form>
      </div>
    </section>
  );
}

function statusPill(u: User) {
  return (
    <span class={`pill ${u.status === "active" ? "pill-up" : u.status === "disabled" ? "pill-down" : ""}`}>
      {u.status}
    </span>
  );
}

/** The users table with its filters; the table part is the htmx swap target. */
export function UsersPage(props: {
  users: User[];
  total: number;
  page: number;
  pageSize: number;
  q: string;
  role: string;
  status: string;
}) {
  return (
    <section aria-labelledby="users-title">
      <div class="page-head">
        <h1 id="users-title">Users</h1>
        <a class="btn btn-primary" href="/admin/new-user">
          Add a local user
        </a>
      </div>
      <form
        class="row"
        method="get"
        action="/admin/users"
        hx-get="/admin/users"
        hx-target="#users-table"
        hx-select="#users-table"
        hx-swap="outerHTML"
        hx-trigger="input changed delay:300ms, change, submit"
        hx-push-url="true"
        role="search"
      >
        <div class="grow-2 min-180">
          <Field label="Search" name="q" type="search" value={props.q} placeholder="Name, user name or email" />
        </div>
        <div class="grow min-120">
          <Select
            label="Role"
            name="role"
            value={props.role}
            options={[
              ["", "Any"],
              ["admin", "Administrators"],
              ["user", "Members"],
            ]}
          />
        </div>
        <div class="grow min-120">
          <Select
            label="Status"
            name="status"
            value={props.status}
            options={[
              ["", "Any"],
              ["active", "Active"],
              ["disabled", "Disabled"],
              ["deleted", "Deleted"],
            ]}
          />
        </div>
        <noscript>
          <button class="btn" type="submit">
            Filter
          </button>
        </noscript>
      </form>
      <UsersTable {...props} />
    </section>
  );
}

/** The users table and pager. */
export function UsersTable(props: {
  users: User[];
  total: number;
  page: number;
  pageSize: number;
  q: string;
  role: string;
  status: string;
}) {
  const link = (page: number) =>
    `/admin/users?${new URLSearchParams({ q: props.q, role: props.role, status: props.status, page: String(page) })}`;
  return (
    <div id="users-table">
      {props.users.length === 0 ? (
        <Empty title="No users match">Clear the filters, or add a local user.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table-stack">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Signs in with</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((u) => (
                <tr>
                  <td data-label="User">
                    <a href={`/admin/users/${u.id}`}>{u.displayName}</a> <span class="muted">@{u.username}</span>
                  </td>
                  <td data-label="Role">{u.role === "admin" ? "Administrator" : "Member"}</td>
                  <td data-label="Status">{statusPill(u)}</td>
                  <td data-label="Signs in with">
                    {[
                      u.plexId ? "Plex" : u.plexInvite ? "Plex (not signed in yet)" : "",
                      u.oidcSubject ? "SSO" : "",
                      u.passwordHash ? "password" : "",
                    ]
                      .filter(Boolean)
                      .join(", ") || "—"}
                  </td>
                  <td data-label="Last sign-in">{u.lastLoginAt ? <When at={u.lastLoginAt} /> : "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager total={props.total} noun={["user", "users"]} page={props.page} pageSize={props.pageSize} link={link} />
    </div>
  );
}

function quotaValue(v: number | null | undefined): string {
  return v === null || v === undefined ? "" : String(v);
}

/** Permission checkboxes and quota fields, shared by the user editor and the defaults form. */
function AccessFields(props: {
  permissions: string[];
  quotas: {
    requestsPerDay: number | null;
    requestsPerWeek: number | null;
    downloadsPerHour: number | null;
    downloadsPerDay: number | null;
    storageCapBytes: number | null;
  };
  errors?: FieldErrors;
  values?: FormValues;
}) {
  const gib =
    props.quotas.storageCapBytes === null
      ? ""
      : String(Math.round((props.quotas.storageCapBytes / 1024 ** 3) * 100) / 100);
  return (
    <>
      <fieldset>
        <legend>Permissions</legend>
        {PERMISSIONS.map((p) => (
          <Checkbox label={PERMISSION_LABELS[p]} name="permissions" value={p} checked={props.permissions.includes(p)} />
        ))}
      </fieldset>
      <fieldset>
        <legend>Quotas (empty means no limit)</legend>
        <Field
          label="Requests per day"
          name="requestsPerDay"
          type="number"
          min={0}
          value={props.values?.requestsPerDay ?? quotaValue(props.quotas.requestsPerDay)}
          error={props.errors?.requestsPerDay}
        />
        <Field
          label="Requests per week"
          name="requestsPerWeek"
          type="number"
          min={0}
          value={props.values?.requestsPerWeek ?? quotaValue(props.quotas.requestsPerWeek)}
          error={props.errors?.requestsPerWeek}
        />
        <Field
          label="Downloads per hour"
          name="downloadsPerHour"
          type="number"
          min={0}
          value={props.values?.downloadsPerHour ?? quotaValue(props.quotas.downloadsPerHour)}
          error={props.errors?.downloadsPerHour}
        />
        <Field
          label="Downloads per day"
          name="downloadsPerDay"
          type="number"
          min={0}
          value={props.values?.downloadsPerDay ?? quotaValue(props.quotas.downloadsPerDay)}
          error={props.errors?.downloadsPerDay}
        />
        <Field
          label="Storage cap (GiB)"
          name="storageCapGiB"
          type="number"
          min={0}
          value={props.values?.storageCapGiB ?? gib}
          error={props.errors?.storageCapGiB}
        />
      </fieldset>
    </>
  );
}

/** What the Seerr card can offer to choose from: Seerr's users, or why they could not be read. */
export type SeerrChoices = { ok: true; users: SeerrUser[] } | { ok: false; message: string };

/**
 * Which Seerr user a MediaNest user acts as, and how that was found; the admin picks one from Seerr's user list
 * (read when the card loads, so the user page itself never waits for Seerr) or clears the link.
 */
export function SeerrLinkCard(props: {
  userId: string;
  link: SeerrLink | undefined;
  /** Undefined: not read yet (the card loads itself). */
  choices?: SeerrChoices;
  csrf?: string;
  errors?: FieldErrors;
  message?: string;
  saved?: string;
}) {
  const action = `/admin/users/${props.userId}/seerr`;
  const l = props.link;
  const c = props.choices;
  return (
    <div class="card" id="seerr-link" aria-labelledby="seerr-link-title">
      <h2 id="seerr-link-title">Seerr account</h2>
      {props.saved ? (
        <div class="alert alert-ok" role="status">
          {props.saved}
        </div>
      ) : null}
      <FormError message={props.message} />
      {l ? (
        <p data-seerr-user={String(l.seerrUserId)} data-how={l.how}>
          Requests go to Seerr as <strong>{l.seerrName ?? `user ${l.seerrUserId}`}</strong> (Seerr user {l.seerrUserId}
          ), {LINK_HOW_LABELS[l.how]} <When at={l.linkedAt} />.
        </p>
      ) : (
        <p class="muted" data-how="none">
          Not linked to a Seerr user yet. Their first request looks for them in Seerr (by Plex account, else by email),
          or choose one here.
        </p>
      )}
      {c === undefined ? (
        <p hx-get={action} hx-trigger="load" hx-target="#seerr-link" hx-swap="outerHTML">
          <a href={action}>Choose a Seerr user</a>
        </p>
      ) : !c.ok ? (
        <p class="alert alert-error" role="alert">
          {c.message}
        </p>
      ) : (
        <form method="post" action={action} hx-post={action} hx-target="#seerr-link" hx-swap="outerHTML">
          <CsrfField token={props.csrf} />
          <input type="hidden" name="op" value="set" />
          <Select
            label="Seerr user"
            name="seerrUserId"
            value={l ? String(l.seerrUserId) : ""}
            options={[
              ["", "Choose a Seerr user"],
              ...c.users.map((u): [string, string] => [
                String(u.id),
                `${u.displayName} (user ${u.id}${u.email ? `, ${u.email}` : ""}${u.plexId != null ? ", Plex" : ""})`,
              ]),
            ]}
            error={props.errors?.seerrUserId}
          />
          <button class="btn" type="submit">
            Link by hand
          </button>
        </form>
      )}
      {l ? (
        <form method="post" action={action} hx-post={action} hx-target="#seerr-link" hx-swap="outerHTML">
          <CsrfField token={props.csrf} />
          <input type="hidden" name="op" value="clear" />
          <button class="btn btn-danger" type="submit">
            Clear the link
          </button>
        </form>
      ) : null}
    </div>
  );
}

/** The user editor: role, permissions, quotas, and the disable/enable/delete actions. */
export function UserEditPage(props: {
  user: User;
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  /** A confirmation to show: true says "Saved.". */
  saved?: boolean | string;
  message?: string;
  /** Errors of the display name and password forms. */
  profileErrors?: FieldErrors;
  profileValues?: FormValues;
  passwordErrors?: FieldErrors;
  self: boolean;
  /** The user's Seerr link as stored; undefined when not read (the card then loads it). */
  seerrLink?: SeerrLink | null;
}) {
  const u = props.user;
  const base = `/admin/users/${u.id}`;
  return (
    <section aria-labelledby="user-title" id="user-editor">
      <p>
        <a href="/admin/users">← Users</a>
      </p>
      <div class="page-head">
        <h1 id="user-title">
          {u.displayName} <span class="muted">@{u.username}</span>
        </h1>
        {statusPill(u)}
      </div>

      {props.saved ? (
        <div class="alert alert-ok" role="status">
          {props.saved === true ? "Saved." : props.saved}
        </div>
      ) : null}
      <FormError message={props.message} />
      {u.status === "deleted" ? (
        <div class="alert alert-info">This user was deleted. Their history stays and shows them as deleted.</div>
      ) : (
        <>
          <form
            class="card"
            method="post"
            action={`/admin/users/${u.id}`}
            hx-post={`/admin/users/${u.id}`}
            hx-target="#user-editor"
            hx-swap="outerHTML"
          >
            <CsrfField token={props.csrf} />
            <Select
              label="Role"
              name="role"
              value={props.values?.role ?? u.role}
              options={[
                ["user", "Member"],
                ["admin", "Administrator"],
              ]}
              error={props.errors?.role}
            />
            <AccessFields permissions={u.permissions} quotas={u} errors={props.errors} values={props.values} />
            <button class="btn btn-primary" type="submit">
              Save changes
            </button>
          </form>
          <form
            class="card"
            method="post"
            action={`${base}/profile`}
            hx-post={`${base}/profile`}
            hx-target="#user-editor"
            hx-swap="outerHTML"
          >
            <CsrfField token={props.csrf} />
            <h2>Name</h2>
            <Field
              label="Display name"
              name="displayName"
              value={props.profileValues?.displayName ?? u.displayName}
              error={props.profileErrors?.displayName}
              maxlength={80}
              required
              hint={u.plexId ? "Plex sets this name again when they next sign in with Plex." : undefined}
            />
            <button class="btn" type="submit">
              Save name
            </button>
          </form>
          {props.seerrLink === undefined ? (
            <div class="card" id="seerr-link" hx-get={`${base}/seerr`} hx-trigger="load" hx-swap="outerHTML">
              <h2>Seerr account</h2>
              <a href={`${base}/seerr`}>Seerr account</a>
            </div>
          ) : (
            <SeerrLinkCard userId={u.id} link={props.seerrLink ?? undefined} csrf={props.csrf} />
          )}
          {u.passwordHash && !props.self ? (
            <form
              class="card"
              method="post"
              action={`${base}/password`}
              hx-post={`${base}/password`}
              hx-target="#user-editor"
              hx-swap="outerHTML"
            >
              <CsrfField token={props.csrf} />
              <h2>Password</h2>
              <p class="muted">
                Give them a new password when they have forgotten theirs. Every browser signed in as them is signed out.
              </p>
              <FormError message={props.passwordErrors?._form} />
              <Field
                label="New password"
                name="password"
                type="password"
                error={props.passwordErrors?.password}
                hint="At least 10 characters. Tell them, and ask them to change it on their account page."
                autocomplete="new-password"
                required
              />
              <Field
                label="Repeat the new password"
                name="confirm"
                type="password"
                error={props.passwordErrors?.confirm}
                autocomplete="new-password"
                required
              />
              <button class="btn" type="submit">
                Set new password
              </button>
            </form>
          ) : null}
          <div class="card row">
            {u.status === "active" ? (
              <form
                method="post"
                action={`/admin/users/${u.id}/disable`}
                hx-post={`/admin/users/${u.id}/disable`}
                hx-target="#user-editor"
                hx-swap="outerHTML"
                hx-confirm="Disable this user? Their sessions end at once."
              >
                <CsrfField token={props.csrf} />
                <button class="btn btn-danger" type="submit" disabled={props.self}>
                  Disable
                </button>
              </form>
            ) : (
              <form
                method="post"
                action={`/admin/users/${u.id}/enable`}
                hx-post={`/admin/users/${u.id}/enable`}
                hx-target="#user-editor"
                hx-swap="outerHTML"
              >
                <CsrfField token={props.csrf} />
                <button class="btn" type="submit">
                  Enable
                </button>
              </form>
            )}
            <form
              method="post"
              action={`/admin/users/${u.id}/delete`}
              hx-post={`/admin/users/${u.id}/delete`}
              hx-target="#user-editor"
              hx-swap="outerHTML"
              hx-confirm="Delete this user? Their history stays; their sign-in methods are removed."
            >
              <CsrfField token={props.csrf} />
              <button class="btn btn-danger" type="submit" disabled={props.self}>
                Delete
              </button>
            </form>
          </div>
        </>
      )}
    </section>
  );
}

/** The form to create a local user. */
export function NewUserPage(props: {
  /** Whether a Plex server is chosen: Plex users can be added only then. */
  plex: boolean;
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  plexErrors?: FieldErrors;
  plexValues?: FormValues;
}) {
  return (
    <section class="narrow" aria-labelledby="new-user-title">
      <p>
        <a href="/admin/users">← Users</a>
      </p>
      <h1 id="new-user-title">Add a user</h1>
      {props.plex ? (
        <form class="card" method="post" action="/admin/new-plex-user">
          <CsrfField token={props.csrf} />
          <h2>Someone with Plex</h2>
          <p class="muted">
            They sign in with Plex; their first sign-in claims this account. This is how people get in while automatic
            accounts are off. They still need access to your Plex server.
          </p>
          <FormError message={props.plexErrors?._form} />
          <Field
            label="Plex user name or email"
            name="plexName"
            value={props.plexValues?.plexName}
            error={props.plexErrors?.plexName}
            required
            maxlength={120}
            autocomplete="off"
          />
          <Select
            label="Role"
            name="role"
            value={props.plexValues?.role ?? "user"}
            options={[
              ["user", "Member"],
              ["admin", "Administrator"],
            ]}
            error={props.plexErrors?.role}
          />
          <button class="btn btn-primary" type="submit">
            Add Plex user
          </button>
        </form>
      ) : (
        <div class="card">
          <h2>Someone with Plex</h2>
          <FormError message={props.plexErrors?._form ?? props.plexErrors?.plexName} />
          <p class="muted">
            No Plex server is chosen yet, so nobody can sign in with Plex. Set one up under{" "}
            <a href="/admin/integrations">Integrations</a>, then add Plex users here.
          </p>
        </div>
      )}
      <form class="card" method="post" action="/admin/new-user">
        <h2>A local account</h2>
        <CsrfField token={props.csrf} />
        <FormError message={props.errors?._form} />
        <Field
          label="User name"
          name="username"
          value={props.values?.username}
          error={props.errors?.username}
          required
          maxlength={40}
          autocomplete="off"
        />
        <Field
          label="Display name"
          name="displayName"
          value={props.values?.displayName}
          error={props.errors?.displayName}
          maxlength={80}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          error={props.errors?.password}
          required
          hint="At least 10 characters. They can change it later."
          autocomplete="new-password"
        />
        <Select
          label="Role"
          name="role"
          value={props.values?.role ?? "user"}
          options={[
            ["user", "Member"],
            ["admin", "Administrator"],
          ]}
          error={props.errors?.role}
        />
        <button class="btn btn-primary" type="submit">
          Create user
        </button>
      </form>
    </section>
  );
}

/** Sign-in settings: automatic accounts, defaults for new accounts, OIDC provider. */
export function AccountSettingsPage(props: {
  settings: AuthSettings;
  oidc?: OidcSettings;
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  saved?: string;
}) {
  const o = props.oidc;
  const v = props.values;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Sign-in settings</h1>

      {props.saved ? (
        <div class="alert alert-ok" role="status">
          {props.saved}
        </div>
      ) : null}
      <form class="card" method="post" action="/admin/settings/accounts">
        <CsrfField token={props.csrf} />
        <h2>New accounts</h2>
        <Checkbox
          label="Create an account automatically for every Plex user with access to the server"
          name="autoCreate"
          checked={props.settings.autoCreate}
        />
        <p class="hint">When off, only users an administrator added can sign in.</p>
        <AccessFields
          permissions={props.settings.defaultPermissions}
          quotas={props.settings.defaultQuotas}
          errors={props.errors}
          values={v}
        />
        <button class="btn btn-primary" type="submit">
          Save
        </button>
      </form>
      <form class="card" method="post" action="/admin/settings/oidc">
        <CsrfField token={props.csrf} />
        <h2>Single sign-on (OpenID Connect)</h2>
        <p class="muted">
          Authentik, Authelia, Keycloak, Pocket ID… Register MediaNest with the redirect URL{" "}
          <code>/auth/oidc/callback</code> under this site's address.
        </p>
        <Field
          label="Issuer URL"
          name="issuer"
          type="url"
          value={v?.issuer ?? o?.issuer}
          error={props.errors?.issuer}
          placeholder="https://auth.example.com/application/o/medianest/"
        />
        <Field label="Client ID" name="clientId" value={v?.clientId ?? o?.clientId} error={props.errors?.clientId} />
        <Field
          label="Client secret"
          name="clientSecret"
          type="password"
          error={props.errors?.clientSecret}
          hint={o?.clientSecret ? "A secret is saved (hidden). Leave empty to keep it." : "Stored encrypted."}
          autocomplete="off"
        />
        <Field
          label="Button label"
          name="displayName"
          value={v?.displayName ?? o?.displayName}
          error={props.errors?.displayName}
          placeholder="Authentik"
        />
        <Field
          label="Group claim"
          name="groupClaim"
          value={v?.groupClaim ?? o?.groupClaim}
          error={props.errors?.groupClaim}
          placeholder="groups"
          hint="Optional: the claim that lists a user's groups."
        />
        <Field
          label="Admin group"
          name="adminGroup"
          value={v?.adminGroup ?? o?.adminGroup}
          error={props.errors?.adminGroup}
          hint="Members of this group become administrators."
        />
        <button class="btn btn-primary" type="submit">
          Save single sign-on
        </button>
      </form>
    </section>
  );
}

/** Say "credentialsUpdated" as "Credentials updated". */
function detailLabel(key: string): string {
  const words = key
    .replace(/[_.]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Say a detail value in words: yes/no, lists joined, nested objects as "key: value" pairs. */
function detailValue(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.length ? v.map(detailValue).join("; ") : "none";
  if (typeof v === "object")
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${detailLabel(k).toLowerCase()}: ${detailValue(x)}`)
      .join(", ");
  return String(v);
}

/** An audit entry's details as labelled values rather than JSON. */
export function AuditDetails(props: { detail: Record<string, unknown> }) {
  const entries = Object.entries(props.detail ?? {});
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="details">
      {entries.map(([k, v]) => (
        <div>
          <dt>{detailLabel(k)}</dt>
          <dd>{detailValue(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The audit log with filters and paging. */
export function AuditPage(props: {
  entries: AuditEntry[];
  total: number;
  page: number;
  pageSize: number;
  action: string;
  /** Every action's label, by its code. */
  actions: Record<string, string>;
}) {
  const link = (page: number) => `/admin/audit?${new URLSearchParams({ action: props.action, page: String(page) })}`;
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="row" method="get" action="/admin/audit">
        <div class="min-220">
          <Select
            label="Action"
            name="action"
            value={props.action}
            options={[["", "All actions"], ...Object.entries(props.actions)]}
          />
        </div>
        <button class="btn" type="submit">
          Filter
        </button>
      </form>
      {props.entries.length === 0 ? (
        <Empty title="Nothing recorded yet">Sign-ins and changes to accounts and settings appear here.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table-stack">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Details</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((e) => (
                <tr>
                  <td data-label="When" class="nowrap">
                    <When at={e.at} />
                  </td>
                  <td data-label="Who">{e.actorName}</td>
                  <td data-label="Action">
                    {props.actions[e.action] ?? e.action}
                    <div class="hint mono">{e.action}</div>
                  </td>
                  <td data-label="Details">
                    <AuditDetails detail={e.detail} />
                  </td>
                  <td data-label="Address" class="mono">
                    {e.ip ?? ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager total={props.total} noun={["entry", "entries"]} page={props.page} pageSize={props.pageSize} link={link} />
    </section>
  );
}
