import { randomBytes } from "../config/secret-box";
import type { AppDeps } from "../app/deps";
import { findApiTokenByHash, insertApiToken, touchApiToken, type ApiToken } from "../store/api-tokens";
import { findUserById, type User } from "../store/users";
import { hashToken } from "./sessions";

const PREFIX = "mn_";

/** Create a named personal API token; the raw token is returned once and only its hash is stored. */
export async function createApiToken(
  deps: Pick<AppDeps, "database">,
  user: User,
  name: string,
): Promise<{ raw: string; token: ApiToken }> {
  const raw = PREFIX + randomBytes(32).toString("base64url");
  const token: ApiToken = {
    id: crypto.randomUUID(),
    userId: user.id,
    name,
    tokenHash: hashToken(raw),
    lastChars: raw.slice(-4),
    createdAt: new Date(),
    lastUsedAt: null,
  };
  await insertApiToken(deps.database, token);
  return { raw, token };
}

/** Resolve a raw API token to its active user. */
export async function resolveApiToken(deps: Pick<AppDeps, "database">, raw: string): Promise<User | undefined> {
  if (!raw.startsWith(PREFIX) || raw.length > 100) return undefined;
  const token = await findApiTokenByHash(deps.database, hashToken(raw));
  if (!token) return undefined;
  const user = await findUserById(deps.database, token.userId);
  if (!user || user.status !== "active") return undefined;
  await touchApiToken(deps.database, token.id, new Date());
  return user;
}
