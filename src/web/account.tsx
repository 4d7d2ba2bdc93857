import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { AccountPage, PasswordForm, publicSessionId, SessionsTable, TokensSection } from "../../views/pages/account";
import { allow } from "../server/access";
import type { AppEnv } from "../app/deps";
import { clientIp } from "../server/request";
import { AccountError, changePassword } from "../services/accounts";
import { createApiToken } from "../services/api-tokens";
import { audit } from "../services/audit";
import { endSession } from "../services/sessions";
import { deleteApiToken, listApiTokensByUser } from "../store/api-tokens";
import { listSessionsByUser } from "../store/sessions";
import { newPassword } from "./auth";
import { form } from "./forms";
import { isHtmxRequest, renderPage } from "../server/htmx";

const passwordForm = z
  .object({
    current: z.string().max(200).optional(),
    password: newPassword,
    confirm: z.string({ error: "Repeat the new password." }),
  })
  .refine((f) => f.password === f.confirm, { message: "The passwords differ.", path: ["confirm"] });

const tokenForm = z.object({
  name: z.string({ error: "Name the token." }).trim().min(1, "Name the token.").max(60, "Use at most 60 characters."),
});

function me(c: Context<AppEnv>) {
  return c.get("user")!;
}

/** Routes of the account page: password, sessions, API tokens. */
export function accountRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/account", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const [sessions, tokens] = await Promise.all([
      listSessionsByUser(deps.database, user.id),
      listApiTokensByUser(deps.database, user.id),
    ]);
    return renderPage(
      c,
      "Your account",
      <AccountPage
        user={user}
        sessions={sessions}
        currentHash={c.get("session")?.idHash}
        tokens={tokens}
        csrf={c.get("csrfToken")}
      />,
    );
  });

  const checkPasswordForm = form(passwordForm, (c, errors) =>
    c.html(<PasswordForm csrf={c.get("csrfToken")} errors={errors} hasPassword={Boolean(me(c).passwordHash)} />, 422),
  );
  app.post("/account/password", allow("user"), checkPasswordForm, async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const csrf = c.get("csrfToken");
    const data = c.req.valid("form");
    if (user.passwordHash && !data.current) {
      return c.html(<PasswordForm csrf={csrf} errors={{ current: "Enter your current password." }} hasPassword />, 422);
    }
    try {
      await changePassword(deps, user, data.current ?? "", data.password, c.get("session")?.idHash, {
        user,
        ip: clientIp(c),
      });
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return c.html(
        <PasswordForm
          csrf={csrf}
          errors={{ [err.field ?? "_form"]: err.message }}
          hasPassword={Boolean(user.passwordHash)}
        />,
        422,
      );
    }
    return c.html(<PasswordForm csrf={csrf} done hasPassword />);
  });

  app.post("/account/sessions/:id/revoke", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const sessions = await listSessionsByUser(deps.database, user.id);
    const target = sessions.find((s) => publicSessionId(s) === c.req.param("id"));
    if (!target)
      return c.html(
        <SessionsTable sessions={sessions} currentHash={c.get("session")?.idHash} csrf={c.get("csrfToken")} />,
        404,
      );
    // Its live stream (on whichever replica) ends now rather than at its next reconnect.
    await endSession(deps, user.id, target.idHash);
    await audit(deps, { user, ip: clientIp(c) }, "session.revoke", { type: "user", id: user.id });
    const rest = sessions.filter((s) => s !== target);
    if (!isHtmxRequest(c)) return c.redirect("/account", 303);
    return c.html(<SessionsTable sessions={rest} currentHash={c.get("session")?.idHash} csrf={c.get("csrfToken")} />);
  });

  const checkTokenForm = form(tokenForm, async (c, errors, values) =>
    c.html(
      <TokensSection
        tokens={await listApiTokensByUser(c.get("deps").database, me(c).id)}
        csrf={c.get("csrfToken")}
        errors={errors}
        name={values.name}
      />,
      422,
    ),
  );
  app.post("/account/tokens", allow("user"), checkTokenForm, async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const tokens = () => listApiTokensByUser(deps.database, user.id);
    const { raw, token } = await createApiToken(deps, user, c.req.valid("form").name);
    await audit(
      deps,
      { user, ip: clientIp(c) },
      "token.create",
      { type: "api_token", id: token.id },
      { name: token.name },
    );
    const page = <TokensSection tokens={await tokens()} csrf={c.get("csrfToken")} created={raw} />;
    return isHtmxRequest(c) ? c.html(page) : renderPage(c, "API token", page);
  });

  app.post("/account/tokens/:id/revoke", allow("user"), async (c) => {
    const deps = c.get("deps");
    const user = me(c);
    const existed = await deleteApiToken(deps.database, c.req.param("id"), user.id);
    if (existed)
      await audit(deps, { user, ip: clientIp(c) }, "token.revoke", { type: "api_token", id: c.req.param("id") });
    // A token that is not this user's (another's, or gone) is a 404 for a plain form too, never a redirect that
    // reads as done.
    if (!isHtmxRequest(c)) {
      if (!existed) throw new HTTPException(404, { message: "There is no such API token on your account." });
      return c.redirect("/account", 303);
    }
    return c.html(
      <TokensSection tokens={await listApiTokensByUser(deps.database, user.id)} csrf={c.get("csrfToken")} />,
      existed ? 200 : 404,
    );
  });

  return app;
}
