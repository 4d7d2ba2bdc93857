import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { ChooseServer, LoginPage, PlexProblem, PlexReturnPage, PlexWaiting, SetupPage } from "../../views/pages/auth";
import { IntegrationError } from "../integrations/http";
import type { PlexAccount, PlexResource } from "../integrations/plextv/types";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { clientIp, isSecureRequest } from "../server/request";
import {
  AccountError,
  authenticateLocal,
  completePlexSetup,
  createSetupAdmin,
  passwordRule,
  setupOpen,
  signInWithPlex,
  SignInRefused,
  usernameRule,
} from "../services/accounts";
import { audit } from "../services/audit";
import { endSession } from "../services/sessions";
import { getPlexServer } from "../services/auth-settings";
import { getOidcSettings } from "../services/oidc";
import { plexTvClient } from "../services/plex-auth";
import { enforceRateLimit, LIMITS } from "../services/rate-limit";
import { findUserById } from "../store/users";
import { form, formValues } from "./forms";
import { redirect, renderPage } from "../server/htmx";
import { beginSession, clearSessionCookie, safeNext } from "./session-cookie";

const PIN_COOKIE = "mn_pin";
const PIN_TTL_MS = 15 * 60_000;
const COMPLETED_PIN_TTL_MS = 2 * 60_000;

interface PendingPin {
  pinId: number;
  code: string;
  purpose: "login" | "setup";
  next: string;
  authUrl: string;
  /** Set once the PIN signed someone in; another poll of the same browser then signs in as them too. */
  completedUserId?: string;
}

interface PendingSetup {
  token: string;
  account: PlexAccount;
  servers: PlexResource[];
}

const username = usernameRule;
export const newPassword = passwordRule;

const loginForm = z.object({
  username: z
    .string({ error: "Enter your user name." })
    .trim()
    .min(1, "Enter your user name.")
    .max(100, "That is too long."),
  password: z.string({ error: "Enter your password." }).min(1, "Enter your password.").max(200, "That is too long."),
  next: z.string().max(500).optional(),
});

const setupForm = z
  .object({
    username,
    displayName: z.string().trim().max(80, "Use at most 80 characters.").optional(),
    password: newPassword,
    confirm: z.string({ error: "Repeat the password." }),
  })
  .refine((f) => f.password === f.confirm, { message: "The passwords differ.", path: ["confirm"] });

function plexFailure(err: unknown): string {
  if (err instanceof SignInRefused) return err.message;
  if (err instanceof IntegrationError) return `${err.message}. Try again in a moment.`;
  throw err;
}

/** The ways in the sign-in page offers besides a password: Plex once a server is chosen, OIDC once configured. */
async function signInOptions(c: Context<AppEnv>): Promise<{ oidcName: string | undefined; plex: boolean }> {
  const deps = c.get("deps");
  const [oidc, plex] = await Promise.all([getOidcSettings(deps), getPlexServer(deps)]);
  return { oidcName: oidc ? oidc.displayName : undefined, plex: plex !== undefined };
}

/** Routes for first-run setup, sign-in (local and Plex PIN) and sign-out. */
export function authRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/setup", allow("public"), async (c) => {
    if (!(await setupOpen(c.get("deps")))) return c.redirect(c.get("user") ? "/" : "/login", 303);
    return renderPage(c, "Set up", <SetupPage csrf={c.get("csrfToken")} />);
  });

  const setupRateLimit = (c: Context<AppEnv>) =>
    enforceRateLimit(c.get("deps"), LIMITS.login, [`setup:ip:${clientIp(c)}`]);
  const checkSetupForm = form(setupForm, async (c, errors, values) => {
    await setupRateLimit(c);
    return renderPage(c, "Set up", <SetupPage errors={errors} values={values} />, { status: 422 });
  });
  app.post("/setup", allow("public"), checkSetupForm, async (c) => {
    const deps = c.get("deps");
    await setupRateLimit(c);
    const data = c.req.valid("form");
    try {
      const user = await createSetupAdmin(
        deps,
        { ...data, displayName: data.displayName || data.username },
        { ip: clientIp(c) },
      );
      await beginSession(c, user);
      return redirect(c, "/admin");
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return renderPage(c, "Set up", <SetupPage values={formValues(c)} message={err.message} />, { status: 409 });
    }
  });

  // A missing or unknown server is answered by the handler, after it knows the sign-in has not expired.
  const checkServerForm = form(z.object({ server: z.string().optional().catch(undefined) }));
  app.post("/setup/plex-server", allow("public"), checkServerForm, async (c) => {
    const deps = c.get("deps");
    const handle = getCookie(c, PIN_COOKIE);
    const pending = handle ? await deps.coordination.cache.get<PendingSetup>(`plexsetup:${handle}`) : undefined;
    if (!pending)
      return c.html(<PlexProblem purpose="setup" message="Your Plex sign-in expired. Sign in with Plex again." />, 422);
    const chosen = c.req.valid("form").server;
    const server = pending.servers.find((s) => s.clientIdentifier === chosen);
    if (!server) return c.html(<ChooseServer servers={pending.servers} error="Choose one of your servers." />, 422);
    try {
      const user = await completePlexSetup(deps, pending.account, pending.token, server, { ip: clientIp(c) });
      await deps.coordination.cache.delete(`plexsetup:${handle}`);
      deleteCookie(c, PIN_COOKIE, { path: "/" });
      await beginSession(c, user);
      return redirect(c, "/admin");
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return c.html(<PlexProblem purpose="setup" message={err.message} />, 409);
    }
  });

  app.get("/login", allow("public"), async (c) => {
    if (c.get("user")) return c.redirect(safeNext(c.req.query("next")), 303);
    return renderPage(c, "Sign in", <LoginPage next={safeNext(c.req.query("next"))} {...(await signInOptions(c))} />);
  });

  const checkLoginForm = form(loginForm, async (c, errors, values) =>
    renderPage(c, "Sign in", <LoginPage next="/" errors={errors} values={values} {...(await signInOptions(c))} />, {
      status: 422,
    }),
  );
  app.post("/login", allow("public"), checkLoginForm, async (c) => {
    const deps = c.get("deps");
    const ip = clientIp(c);
    const data = c.req.valid("form");
    const next = safeNext(data.next);
    await enforceRateLimit(deps, LIMITS.login, [`login:ip:${ip}`]);
    await enforceRateLimit(deps, LIMITS.loginAccount, [`login:user:${data.username.toLowerCase()}`]);
    const user = await authenticateLocal(deps, data.username, data.password);
    if (!user) {
      await audit(deps, { ip }, "signin.failure", undefined, {
        method: "password",
        username: data.username.slice(0, 100),
      });
      return renderPage(
        c,
        "Sign in",
        <LoginPage
          next={next}
          values={{ username: data.username }}
          message="That user name and password do not match an active account."
          {...(await signInOptions(c))}
        />,
        { status: 401 },
      );
    }
    await deps.coordination.rateLimiter.reset(`rl:login:user:${user.username}`);
    await audit(deps, { user, ip }, "signin.success", { type: "user", id: user.id }, { method: "password" });
    await beginSession(c, user);
    return redirect(c, next);
  });

  app.post("/logout", allow("user"), async (c) => {
    const session = c.get("session");
    if (session) {
      const deps = c.get("deps");
      await endSession(deps, session.userId, session.idHash);
    }
    clearSessionCookie(c);
    return redirect(c, "/login");
  });

  // Plex PIN flow: the server creates the PIN, the browser opens plex.tv, and the browser's poll makes the server
  // ask plex.tv whether the PIN was approved. The PIN lives in the shared cache, bound to this browser by a cookie.
  // A form that does not parse signs in with the defaults.
  const pinForm = z
    .object({ purpose: z.enum(["login", "setup"]).default("login"), next: z.string().max(500).optional() })
    .catch({ purpose: "login", next: undefined });
  const checkPinForm = form(pinForm);
  app.post("/auth/plex/pin", allow("public"), checkPinForm, async (c) => {
    const deps = c.get("deps");
    await enforceRateLimit(deps, LIMITS.pinCreate, [`pin:ip:${clientIp(c)}`]);
    const data = c.req.valid("form");
    const purpose = data.purpose;
    if (purpose === "setup" && !(await setupOpen(deps))) {
      return c.html(<PlexProblem purpose="login" message="Setup is already complete. Sign in instead." />, 409);
    }
    if (purpose === "login" && !(await getPlexServer(deps))) {
      return c.html(
        <div id="plex-signin" class="alert alert-error" role="alert">
          No Plex server is chosen yet, so nobody can sign in with Plex. Sign in with your MediaNest account.
        </div>,
        409,
      );
    }
    const client = await plexTvClient(deps);
    let pin;
    try {
      pin = await client.createPin();
    } catch (err) {
      return c.html(<PlexProblem purpose={purpose} message={plexFailure(err)} />, 502);
    }
    const handle = crypto.randomUUID();
    const origin = deps.config.publicUrl?.replace(/\/+$/, "") ?? new URL(c.req.url).origin;
    const authUrl = client.authUrl(pin.code, `${origin}/auth/plex/return`);
    const pending: PendingPin = {
      pinId: pin.id,
      code: pin.code,
      purpose,
      next: safeNext(data.next),
      authUrl,
    };
    await deps.coordination.cache.set(`plexpin:${handle}`, pending, PIN_TTL_MS);
    setCookie(c, PIN_COOKIE, handle, {
      httpOnly: true,
      sameSite: "Lax",
      secure: isSecureRequest(c),
      path: "/",
      maxAge: PIN_TTL_MS / 1000,
    });
    return renderPage(c, "Sign in with Plex", <PlexWaiting authUrl={authUrl} />);
  });

  app.get("/auth/plex/return", allow("public"), (c) => renderPage(c, "Signing in", <PlexReturnPage />));

  app.get("/auth/plex/poll", allow("public"), async (c) => {
    const deps = c.get("deps");
    const ip = clientIp(c);
    await enforceRateLimit(deps, LIMITS.pinPoll, [`pinpoll:ip:${ip}`]);
    const handle = getCookie(c, PIN_COOKIE);
    const pending = handle ? await deps.coordination.cache.get<PendingPin>(`plexpin:${handle}`) : undefined;
    const problem = (message: string, status = 200, purpose: "login" | "setup" = pending?.purpose ?? "login") =>
      renderPage(c, "Sign in with Plex", <PlexProblem purpose={purpose} message={message} />, { status });
    if (!handle || !pending) {
      // The popup's own poll finished the sign-in and its answer reached this browser: follow it.
      if (c.get("user")) return redirect(c, "/");
      const setup = handle ? await deps.coordination.cache.get<PendingSetup>(`plexsetup:${handle}`) : undefined;
      if (setup)
        return renderPage(c, "Choose your server", <ChooseServer servers={setup.servers} csrf={c.get("csrfToken")} />);
      return problem("This Plex sign-in expired or was already used. Start again.");
    }
    // The popup (back at /auth/plex/return) and this page may poll at once, and a popup that closes itself can
    // lose the answer that carried its session cookie: the PIN, once used, signs in whichever poll of this
    // browser comes next, for a short while.
    if (pending.completedUserId) {
      // Once only: a copied PIN cookie must not mint sessions.
      await deps.coordination.cache.delete(`plexpin:${handle}`);
      const user = await findUserById(deps.database, pending.completedUserId);
      if (!user || user.status !== "active")
        return problem("This Plex sign-in expired or was already used. Start again.");
      deleteCookie(c, PIN_COOKIE, { path: "/" });
      await beginSession(c, user);
      return redirect(c, pending.next);
    }
    const lock = await deps.coordination.locks.tryAcquire(`plexpin:${handle}`, 15_000);
    if (!lock) return renderPage(c, "Sign in with Plex", <PlexWaiting authUrl={pending.authUrl} />);
    try {
      const client = await plexTvClient(deps);
      let status;
      try {
        status = await client.getPin(pending.pinId);
      } catch (err) {
        return problem(plexFailure(err), 502);
      }
      if (status.expired) {
        await deps.coordination.cache.delete(`plexpin:${handle}`);
        return problem("The Plex PIN expired before it was approved. Start again.");
      }
      if (!status.authToken) return renderPage(c, "Sign in with Plex", <PlexWaiting authUrl={pending.authUrl} />);
      await deps.coordination.cache.delete(`plexpin:${handle}`);
      if (pending.purpose === "setup") {
        try {
          const account = await client.getUser(status.authToken);
          const servers = (await client.getResources(status.authToken)).filter(
            (r) => r.owned && r.provides.includes("server"),
          );
          await deps.coordination.cache.set(
            `plexsetup:${handle}`,
            { token: status.authToken, account, servers } satisfies PendingSetup,
            PIN_TTL_MS,
          );
          return renderPage(c, "Choose your server", <ChooseServer servers={servers} csrf={c.get("csrfToken")} />);
        } catch (err) {
          return problem(plexFailure(err), 502, "setup");
        }
      }
      try {
        const user = await signInWithPlex(deps, status.authToken, { ip });
        await deps.coordination.cache.set(
          `plexpin:${handle}`,
          { ...pending, completedUserId: user.id } satisfies PendingPin,
          COMPLETED_PIN_TTL_MS,
        );
        deleteCookie(c, PIN_COOKIE, { path: "/" });
        await beginSession(c, user);
        return redirect(c, pending.next);
      } catch (err) {
        return problem(plexFailure(err), err instanceof SignInRefused ? 403 : 502);
      }
    } finally {
      await lock.release();
    }
  });

  return app;
}
