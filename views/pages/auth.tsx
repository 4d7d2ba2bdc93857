import { CsrfField, Field, FormError } from "../components/form";
import type { FieldErrors, FormValues } from "../components/form";
import type { PlexResource } from "../../src/integrations/plextv/types";

/** The Plex sign-in button: asks the server for a PIN and swaps in the waiting panel. */
export function PlexButton(props: { purpose: "login" | "setup"; next?: string; csrf?: string }) {
  return (
    <div id="plex-signin">
      <form method="post" action="/auth/plex/pin" hx-post="/auth/plex/pin" hx-target="#plex-signin" hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        <input type="hidden" name="purpose" value={props.purpose} />
        <input type="hidden" name="next" value={props.next ?? "/"} />
        <button class="btn btn-plex btn-block" type="submit">
          Sign in with Plex
        </button>
      </form>
    </div>
  );
}

/** The panel shown while plex.tv waits for the user's approval; it polls the server about once a second. */
export function PlexWaiting(props: { authUrl: string; message?: string }) {
  return (
    <div id="plex-signin" class="stack" aria-live="polite">
      <p>
        <a class="btn btn-plex btn-block" href={props.authUrl} target="_blank" rel="noopener" data-popup>
          Open Plex to approve
        </a>
      </p>
      <div hx-get="/auth/plex/poll" hx-trigger="load delay:1s" hx-swap="outerHTML" hx-target="#plex-signin">
        <p class="muted">{props.message ?? "Waiting for you to approve MediaNest in the Plex window…"}</p>
      </div>
      <p class="hint">
        Approved already and nothing happens? <a href="/auth/plex/poll">Continue</a>
      </p>
    </div>
  );
}

/** A Plex sign-in that ended without signing in, with a way to start again. */
export function PlexProblem(props: { message: string; purpose: "login" | "setup"; csrf?: string }) {
  return (
    <div id="plex-signin" class="stack">
      <div class="alert alert-error" role="alert">
        {props.message}
      </div>
      <PlexButton purpose={props.purpose} csrf={props.csrf} />
    </div>
  );
}

/** The sign-in page: Plex first, then OIDC when configured, then a local account. */
export function LoginPage(props: {
  next: string;
  csrf?: string;
  errors?: FieldErrors;
  values?: FormValues;
  message?: string;
  oidcName?: string;
  /** Whether a Plex server is chosen: without one, nobody can sign in with Plex. */
  plex: boolean;
}) {
  return (
    <section class="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>

      <div class="stack">
        {props.plex ? <PlexButton purpose="login" next={props.next} csrf={props.csrf} /> : null}
        {props.oidcName ? (
          <a class="btn btn-block" href={`/auth/oidc/start?next=${encodeURIComponent(props.next)}`}>
            Sign in with {props.oidcName}
          </a>
        ) : null}
      </div>
      {props.plex || props.oidcName ? <h2>Or with a MediaNest account</h2> : null}
      <form method="post" action="/login" hx-post="/login" hx-target="closest section" hx-swap="outerHTML">
        <CsrfField token={props.csrf} />
        <FormError message={props.message} />
        <input type="hidden" name="next" value={props.next} />
        <Field
          label="User name"
          name="username"
          value={props.values?.username}
          error={props.errors?.username}
          autocomplete="username"
          required
          maxlength={100}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          error={props.errors?.password}
          autocomplete="current-password"
          required
          maxlength={200}
        />
        <button class="btn btn-primary" type="submit">
          Sign in
        </button>
      </form>
    </section>
  );
}

/** First-run setup: make the owner's account with Plex or with a local password. */
export function SetupPage(props: { csrf?: string; errors?: FieldErrors; values?: FormValues; message?: string }) {
  return (
    <section class="narrow" aria-labelledby="setup-title">
      <h1 id="setup-title">Set up MediaNest</h1>
      <p>Create the owner's account. This can happen once; later, manage people from the admin pages.</p>

      <div class="card">
        <h2>Recommended: sign in with Plex</h2>
        <p class="muted">
          MediaNest keeps your Plex token encrypted and asks which of your servers this household uses.
        </p>
        <PlexButton purpose="setup" csrf={props.csrf} />
      </div>
      <div class="card" id="local-admin">
        <h2>Or create a local administrator</h2>
        <form
          method="post"
          action="/setup"
          hx-post="/setup"
          hx-target="#local-admin"
          hx-select="#local-admin"
          hx-swap="outerHTML"
        >
          <CsrfField token={props.csrf} />
          <FormError message={props.message} />
          <Field
            label="User name"
            name="username"
            value={props.values?.username}
            error={props.errors?.username}
            autocomplete="username"
            required
            maxlength={40}
            hint="Letters, digits, dots, dashes and underscores."
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
            autocomplete="new-password"
            required
            hint="At least 10 characters."
            maxlength={200}
          />
          <Field
            label="Repeat the password"
            name="confirm"
            type="password"
            error={props.errors?.confirm}
            autocomplete="new-password"
            required
            maxlength={200}
          />
          <button class="btn btn-primary" type="submit">
            Create administrator
          </button>
        </form>
      </div>
    </section>
  );
}

/** Setup's second step after Plex sign-in: choose which owned server this household uses. */
export function ChooseServer(props: { servers: PlexResource[]; csrf?: string; error?: string }) {
  return (
    <div id="plex-signin" class="stack">
      <h3>Which Plex server does this household use?</h3>
      <FormError message={props.error} />
      {props.servers.length === 0 ? (
        <div class="alert alert-warn">
          Your Plex account owns no server. Sign in with the account that owns the server, or create a local
          administrator below.
        </div>
      ) : (
        <form
          method="post"
          action="/setup/plex-server"
          hx-post="/setup/plex-server"
          hx-target="#plex-signin"
          hx-swap="outerHTML"
        >
          <CsrfField token={props.csrf} />
          <fieldset>
            <legend>Your servers</legend>
            {props.servers.map((s, i) => (
              <label class="checkbox">
                <input type="radio" name="server" value={s.clientIdentifier} checked={i === 0} required />
                {s.name}
              </label>
            ))}
          </fieldset>
          <button class="btn btn-primary" type="submit">
            Use this server
          </button>
        </form>
      )}
    </div>
  );
}

/** A page that finishes a Plex sign-in after plex.tv sent the browser back (phones) or in the popup. */
export function PlexReturnPage(props: { authUrl?: string }) {
  return (
    <section class="card narrow" data-close-if-popup>
      <h1>Signing you in…</h1>
      <div hx-get="/auth/plex/poll" hx-trigger="load" hx-swap="outerHTML" hx-target="this">
        <p class="muted">Checking with Plex…</p>
      </div>
      <p class="hint">
        Nothing happening? <a href="/auth/plex/poll">Continue</a>
      </p>
    </section>
  );
}
