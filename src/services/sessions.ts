import { randomBytes } from "../config/secret-box";
import type { AppDeps } from "../app/deps";
import {
  deleteSession,
  deleteSessionsByUser,
  findSessionWithUser,
  insertSession,
  listSessionsByUser,
  touchSession,
  type Session,
} from "../store/sessions";
import { publishEvent, topics } from "./events";
import type { User } from "../store/users";

export const SESSION_COOKIE = "mn_session";
const DAY = 86_400_000;
// Writing last_seen on every request would make every page a write; once a minute is precise enough for idle expiry.
const TOUCH_EVERY_MS = 60_000;

/** Hash a session id or token for storage; the raw value exists only in the cookie or the user's hands. */
export function hashToken(raw: string): string {
  return new Bun.CryptoHasher("sha256").update(raw).digest("hex");
}

/** Start a session for a user: a new random id (never reused: no fixation), stored hashed. Returns the cookie value. */
export async function startSession(
  deps: Pick<AppDeps, "database" | "config">,
  user: User,
  client: { ip: string; userAgent: string },
): Promise<{ cookie: string; session: Session }> {
  const raw = randomBytes(32).toString("base64url");
  const now = new Date();
  const session: Session = {
    idHash: hashToken(raw),
    userId: user.id,
    csrfToken: randomBytes(24).toString("base64url"),
    userAgent: client.userAgent.slice(0, 300),
    ip: client.ip,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + deps.config.sessionMaxDays * DAY),
  };
  await insertSession(deps.database, session);
  return { cookie: raw, session };
}

/** Resolve a session cookie to its live session and active user; expired or orphaned sessions are removed. */
export async function resolveSession(
  deps: Pick<AppDeps, "database" | "config">,
  raw: string,
  now = new Date(),
): Promise<{ session: Session; user: User } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(raw)) return undefined;
  return resolveSessionByHash(deps, hashToken(raw), now);
}

/**
 * The session stored under a hash and its user, when both are still good: not expired, not idle too long, the user
 * active. A session found no longer good is deleted. `touch: false` reads without counting it as activity.
 */
export async function resolveSessionByHash(
  deps: Pick<AppDeps, "database" | "config">,
  idHash: string,
  now = new Date(),
  opts: { touch?: boolean } = {},
): Promise<{ session: Session; user: User } | undefined> {
  const found = await findSessionWithUser(deps.database, idHash);
  if (!found) return undefined;
  const { session, user } = found;
  const idleLimit = now.getTime() - deps.config.sessionIdleDays * DAY;
  if (session.expiresAt.getTime() <= now.getTime() || session.lastSeenAt.getTime() <= idleLimit) {
    await deleteSession(deps.database, session.idHash);
    return undefined;
  }
  if (user.status !== "active") {
    await deleteSession(deps.database, session.idHash);
    return undefined;
  }
  if (opts.touch !== false && now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await touchSession(deps.database, session.idHash, now);
    return { session: { ...session, lastSeenAt: now }, user };
  }
  return { session, user };
}

/** End one of a user's sessions and close its live streams on every replica; false when it was not theirs. */
export async function endSession(
  deps: Pick<AppDeps, "database" | "coordination" | "log">,
  userId: string,
  idHash: string,
): Promise<boolean> {
  const existed = await deleteSession(deps.database, idHash, userId);
  if (existed) await publishEvent(deps, topics.user(userId), { type: "session-ended", sessionHash: idHash });
  return existed;
}

/** End every session of a user (keeping one, when given) and close their live streams; returns how many ended. */
export async function endUserSessions(
  deps: Pick<AppDeps, "database" | "coordination" | "log">,
  userId: string,
  keepHash?: string,
): Promise<number> {
  const ending = (await listSessionsByUser(deps.database, userId)).filter((s) => s.idHash !== keepHash);
  await deleteSessionsByUser(deps.database, userId, keepHash);
  for (const s of ending)
    await publishEvent(deps, topics.user(userId), { type: "session-ended", sessionHash: s.idHash });
  return ending.length;
}
