import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { clientIp, isSecureRequest } from "../server/request";
import type { AppEnv } from "../app/deps";
import { SESSION_COOKIE, startSession } from "../services/sessions";
import type { User } from "../store/users";

/** Start a new session for the user and set its cookie (HttpOnly, SameSite=Lax, Secure behind TLS). */
export async function beginSession(c: Context<AppEnv>, user: User): Promise<void> {
  const deps = c.get("deps");
  const { cookie } = await startSession(deps, user, {
    ip: clientIp(c),
    userAgent: c.req.header("user-agent") ?? "unknown",
  });
  setCookie(c, SESSION_COOKIE, cookie, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isSecureRequest(c),
    path: "/",
    maxAge: Math.floor(deps.config.sessionMaxDays * 86400),
  });
}

/** Remove the session cookie. */
export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/** A same-site path to go to after sign-in; anything else becomes "/". */
export function safeNext(next: string | undefined): string {
  // Printable ASCII only: browsers drop tabs and newlines from URLs, so "/\t/evil.example" would become
  // "//evil.example" (another site), and a newline would break the Location header.
  if (!next || !/^\/(?![\/\\])[\x21-\x7e]*$/.test(next)) return "/";
  return next;
}
