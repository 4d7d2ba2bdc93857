import type { ApiToken } from "../../src/store/api-tokens";
import type { Session } from "../../src/store/sessions";
import type { User } from "../../src/store/users";
import type { FieldErrors } from "../components/form";
import { CsrfField, Empty, Field, FormError } from "../components/form";
import { Ago } from "../components/format";

/** Describe a browser from its user agent in a few words. */
export function describeDevice(ua: string): string {
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrome\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "Browser";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  return os ? `${browser} on ${os}` : ua === "test" || ua === "unknown" ? "Unknown device" : browser;
}

/** A session's id in pages: a prefix of its stored hash, which cannot be turned back into the cookie. */
export function publicSessionId(s: Session): string {
  return s.idHash.slice(0, 16);
}

/** The sessions table, swapped in place when one is revoked. */
export function SessionsTable(props: { sessions: Session[]; currentHash?: string; csrf?: string }) {
  return (
    <div id="sessions" class="table-wrap">
      <table class="table-stack">
        <caption class="visually-hidden">Your sessions</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Address</th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr>
              <td data-label="Device">
                {describeDevice(s.userAgent)}
                {s.idHash === props.currentHash ? <span class="pill"> this browser</span> : null}
              </td>
              <td data-label="Address" class="mono">
                {s.ip}
              </td>
              <td data-label="Last seen" class="nowrap">
                <Ago at={s.lastSeenAt} />
              </td>
              <td>
                {s.idHash === props.currentHash ? null : (
                  <form
                    method="post"
                    action={`/account/sessions/${publicSessionId(s)}/revoke`}
                    hx-post={`/account/sessions/${publicSessionId(s)}/revoke`}
                    hx-target="#sessions"
                    hx-swap="outerHTML"
                  >
                    <CsrfField token={props.csrf} />
                    <button class="btn btn-small btn-danger" type="submit">
                      Sign out
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The API tokens section; shows a new token once, right after creation. */
export function TokensSection(props: {
  tokens: ApiToken[];
  csrf?: string;
  created?: string;
  errors?: FieldErrors;
  name?: string;
}) {
  return (
    <div id="tokens" class="stack">
      {props.created ? (
        <div class="alert alert-ok" role="status">
          <p>Your new token (copy it now, it is shown only once):</p>
          <code class="mono token" id="new-token">
            {props.created}
          </code>
        </div>
      ) : null}
      {props.tokens.length === 0 ? (
        <Empty title="No API tokens">Create one to use MediaNest's API from scripts.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="table-stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((t) => (
                <tr>
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Token" class="mono">
                    …{t.lastChars}
                  </td>
                  <td data-label="Last used" class="nowrap">
                    {t.lastUsedAt ? <Ago at={t.lastUsedAt} /> : "never"}
                  </td>
                  <td>
                    <form
                      method="post"
                      action={`/account/tokens/${t.id}/revoke`}
                      hx-post={`/account/tokens/${t.id}/revoke`}
                      hx-target="#tokens"
                      hx-swap="outerHTML"
                    >
                      <CsrfField token={props.csrf} />
                      <button class="btn btn-small btn-danger" type="submit">
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        method="post"
        action="/account/tokens"
        hx-post="/account/tokens"
        hx-target="#tokens"
        hx-swap="outerHTML"
        class="row"
      >
        <CsrfField token={props.csrf} />
        <div class="grow min-200">
          <Field
            label="New token name"
            name="name"
            value={props.name}
            error={props.errors?.name}
            maxlength={60}
            placeholder="e.g. home automation"
          />
        </div>
        <button class="btn" type="submit">
          Create token
        </button>
      </form>
    </div>
  );
}

/** The password form, swapped in place. */
export function PasswordForm(props: { csrf?: string; errors?: FieldErrors; done?: boolean; hasPassword: boolean }) {
  return (
    <form
      id="password-form"
      method="post"
      action="/account/password"
      hx-post="/account/password"
      hx-target="this"
      hx-swap="outerHTML"
    >
      <CsrfField token={props.csrf} />
      {props.done ? (
        <div class="alert alert-ok" role="status">
          Password changed. Your other sessions were signed out.
        </div>
      ) : null}
      <FormError message={props.errors?._form} />
      {props.hasPassword ? (
        <Field
          label="Current password"
          name="current"
          type="password"
          error={props.errors?.current}
          autocomplete="current-password"
          required
        />
      ) : null}
      <Field
        label="New password"
        name="password"
        type="password"
        error={props.errors?.password}
        autocomplete="new-password"
        hint="At least 10 characters."
        required
      />
      <Field
        label="Repeat the new password"
        name="confirm"
        type="password"
        error={props.errors?.confirm}
        autocomplete="new-password"
        required
      />
      <button class="btn btn-primary" type="submit">
        {props.hasPassword ? "Change password" : "Set a password"}
      </button>
    </form>
  );
}

/** The account page: profile, password, sessions, API tokens, sign out. */
export function AccountPage(props: {
  user: User;
  sessions: Session[];
  currentHash?: string;
  tokens: ApiToken[];
  csrf?: string;
}) {
  const u = props.user;
  return (
    <section aria-labelledby="account-title">
      <div class="page-head">
        <h1 id="account-title">Your account</h1>
        <form method="post" action="/logout">
          <CsrfField token={props.csrf} />
          <button class="btn" type="submit">
            Sign out
          </button>
        </form>
      </div>

      <div class="card">
        <div class="row">
          {u.avatarUrl ? <img class="avatar" src={u.avatarUrl} alt="" width="48" height="48" /> : null}
          <div>
            <strong>{u.displayName}</strong> <span class="muted">@{u.username}</span>
            <div class="muted">
              {u.role === "admin" ? "Administrator" : "Member"}
              {u.plexId ? " · signs in with Plex" : ""}
              {u.oidcSubject ? " · signs in with single sign-on" : ""}
            </div>
          </div>
        </div>
      </div>
      <div class="card">
        <h2>Password</h2>
        <PasswordForm csrf={props.csrf} hasPassword={Boolean(u.passwordHash)} />
      </div>
      <div class="card">
        <h2>Sessions</h2>
        <p class="muted">Every browser signed in to your account. Sign out any you do not recognise.</p>
        <SessionsTable sessions={props.sessions} currentHash={props.currentHash} csrf={props.csrf} />
      </div>
      <div class="card">
        <h2>API tokens</h2>
        <p class="muted">
          A token acts as you under /api, with your permissions. Send it as <code>Authorization: Bearer …</code>.
        </p>
        <TokensSection tokens={props.tokens} csrf={props.csrf} />
      </div>
    </section>
  );
}
