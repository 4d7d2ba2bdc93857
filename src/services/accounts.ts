import { z } from "zod";
import type { AppDeps } from "../app/deps";
import { findServerAccess } from "../integrations/plextv/client";
import type { PlexAccount, PlexResource } from "../integrations/plextv/types";
import { deleteSetting, insertSettingIfAbsent } from "../store/settings";
import { endUserSessions } from "./sessions";
import {
  adminExists,
  findUserByPlexId,
  findUserByPlexInvite,
  findUserByUsername,
  insertUser,
  listUsers,
  updateUser,
  type NewUser,
  type User,
} from "../store/users";
import { alertAdminsOfNewUser } from "./admin-alerts";
import { SETUP_CLAIM, setupOpen } from "./setup-state";
import { audit, type Actor } from "./audit";
import { getAuthSettings, getPlexServer, savePlexServer } from "./auth-settings";
import { DEFAULT_PERMISSIONS } from "./permissions";
import { plexTvClient } from "./plex-auth";

/** A sign-in that was refused for a reason the user should read. */
export class SignInRefused extends Error {}

/** A rule of the accounts service that the request broke (taken name, setup already done). */
export class AccountError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export { setupOpen };

/** The one rule for a local user name: 2 to 40 letters, digits, dots, dashes or underscores, kept lower case. */
export const usernameRule = z
  .string({ error: "Enter a user name." })
  .trim()
  .toLowerCase()
  .min(2, "Use at least 2 characters.")
  .max(40, "Use at most 40 characters.")
  .regex(/^[a-z0-9._-]+$/, "Use only letters, digits, dots, dashes and underscores.");

/** The one rule for a new password: 10 to 200 characters. */
export const passwordRule = z
  .string({ error: "Enter a password." })
  .min(10, "Use at least 10 characters.")
  .max(200, "Use at most 200 characters.");

/**
 * Create the first administrator exactly once: the settings row claimed first is the database's own arbiter, so two
 * browsers (or replicas) racing through setup leave one admin and the loser gets an AccountError.
 */
async function withSetupClaim(deps: Pick<AppDeps, "database">, create: (id: string) => Promise<User>): Promise<User> {
  if (await adminExists(deps.database)) throw new AccountError("Setup is already complete. Sign in instead.");
  const id = crypto.randomUUID();
  if (!(await insertSettingIfAbsent(deps.database, SETUP_CLAIM, id)))
    throw new AccountError("Setup is already complete. Sign in instead.");
  try {
    return await create(id);
  } catch (err) {
    await deleteSetting(deps.database, SETUP_CLAIM);
    throw err;
  }
}

function newUserRow(
  id: string,
  patch: Omit<NewUser, "id" | "createdAt" | "updatedAt" | "permissions" | "status"> & Partial<NewUser>,
): NewUser {
  const now = new Date();
  return { id, status: "active", permissions: [...DEFAULT_PERMISSIONS], createdAt: now, updatedAt: now, ...patch };
}

/** Hash a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Create the first administrator with a local password. */
export async function createSetupAdmin(
  deps: Pick<AppDeps, "database" | "log">,
  input: { username: string; displayName: string; password: string },
  actor: Actor,
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const user = await withSetupClaim(deps, (id) =>
    insertUser(
      deps.database,
      newUserRow(id, {
        username: input.username.toLowerCase(),
        displayName: input.displayName,
        role: "admin",
        passwordHash,
      }),
    ),
  );
  await audit(deps, { ...actor, user }, "setup.admin_created", { type: "user", id: user.id }, { method: "local" });
  return user;
}

/** Create the first administrator from the owner's Plex account and remember the chosen server. */
export async function completePlexSetup(
  deps: Pick<AppDeps, "database" | "log" | "secretBox">,
  account: PlexAccount,
  ownerToken: string,
  server: PlexResource,
  actor: Actor,
): Promise<User> {
  const user = await withSetupClaim(deps, async (id) => {
    const username = await freeUsername(deps, account.username || account.title || `plex-${account.plexId}`);
    return insertUser(
      deps.database,
      newUserRow(id, {
        username,
        displayName: account.title || account.username,
        email: account.email,
        avatarUrl: account.thumb,
        role: "admin",
        plexId: account.plexId,
        plexUuid: account.uuid,
        plexTokenEnc: deps.secretBox.encrypt(ownerToken),
        plexTokenServer: server.clientIdentifier,
        lastLoginAt: new Date(),
      }),
    );
  });
  const url =
    server.connections.find((c) => !c.relay && !c.local)?.uri ?? server.connections.find((c) => !c.relay)?.uri ?? null;
  await savePlexServer(deps, { machineIdentifier: server.clientIdentifier, name: server.name, url, ownerToken });
  await audit(
    deps,
    { ...actor, user },
    "setup.admin_created",
    { type: "user", id: user.id },
    { method: "plex", server: server.name },
  );
  return user;
}

/** Pick a username not yet taken, based on the wanted one. */
export async function freeUsername(deps: Pick<AppDeps, "database">, wanted: string): Promise<string> {
  const base =
    wanted
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32) || "user";
  for (let i = 0; i < 50; i++) {
    const candidate = i === 0 ? base : `${base}-${i + 1}`;
    if (!(await findUserByUsername(deps.database, candidate))) return candidate;
  }
  return `${base}-${crypto.randomUUID().slice(0, 8)}`;
}

// Verifying against a fixed hash when the user does not exist keeps the timing of both failures alike.
let dummyHash: Promise<string> | undefined;

/** Check a username and password and record the sign-in; undefined when either is wrong or the account cannot sign in. */
export async function authenticateLocal(
  deps: Pick<AppDeps, "database">,
  username: string,
  password: string,
): Promise<User | undefined> {
  const user = await findUserByUsername(deps.database, username.trim());
  if (!user?.passwordHash || user.status !== "active") {
    dummyHash ??= hashPassword("medianest-timing-equaliser");
    await Bun.password.verify(password, await dummyHash).catch(() => false);
    return undefined;
  }
  if (!(await Bun.password.verify(password, user.passwordHash).catch(() => false))) return undefined;
  return (await updateUser(deps.database, user.id, { lastLoginAt: new Date() })) ?? user;
}

/**
 * Sign a Plex account in: it must reach our server (plex.tv resources), and either have a MediaNest account or be
 * allowed one by the automatic account creation setting. Name, avatar and token refresh at every sign-in.
 */
export async function signInWithPlex(
  deps: Pick<AppDeps, "database" | "log" | "secretBox" | "config" | "fetch" | "metrics" | "coordination">,
  token: string,
  actor: Actor,
): Promise<User> {
  const server = await getPlexServer(deps);
  if (!server)
    throw new SignInRefused("This MediaNest has no Plex server chosen yet. The owner must finish setup first.");
  const client = await plexTvClient(deps);
  const account = await client.getUser(token);
  const resources = await client.getResources(token);
  const access = findServerAccess(resources, server.machineIdentifier);
  if (!access) {
    await audit(deps, actor, "signin.failure", undefined, {
      method: "plex",
      username: account.username,
      reason: "no server access",
    });
    throw new SignInRefused(
      `Your Plex account “${account.username}” has no access to the Plex server “${server.name}”. Ask the owner to share the server with you, then try again.`,
    );
  }
  const settings = await getAuthSettings(deps);
  let user = await findUserByPlexId(deps.database, account.plexId);
  // An account the owner added for this Plex user by name or email is claimed by their first sign-in.
  const invited = user ? undefined : await findUserByPlexInvite(deps.database, [account.username, account.email ?? ""]);
  if (invited) {
    user = (await updateUser(deps.database, invited.id, { plexId: account.plexId, plexInvite: null }))!;
    await audit(
      deps,
      { ...actor, user },
      "user.plex_linked",
      { type: "user", id: user.id },
      { username: account.username },
    );
  }
  const profile = {
    displayName: account.title || account.username,
    email: account.email,
    avatarUrl: account.thumb,
    plexUuid: account.uuid,
    plexTokenEnc: deps.secretBox.encrypt(access.accessToken ?? token),
    plexTokenServer: server.machineIdentifier,
    lastLoginAt: new Date(),
  };
  if (user) {
    if (user.status !== "active") {
      await audit(
        deps,
        { ...actor, user },
        "signin.failure",
        { type: "user", id: user.id },
        { method: "plex", reason: "account disabled" },
      );
      throw new SignInRefused("Your MediaNest account is disabled. Ask the owner to enable it.");
    }
    user = (await updateUser(deps.database, user.id, profile))!;
  } else {
    if (!settings.autoCreate) {
      await audit(deps, actor, "signin.failure", undefined, {
        method: "plex",
        username: account.username,
        reason: "no account",
      });
      throw new SignInRefused(
        `You have access to “${server.name}”, but this MediaNest only lets in people the owner has added. Ask the owner to add “${account.username}”.`,
      );
    }
    user = await insertUser(
      deps.database,
      newUserRow(crypto.randomUUID(), {
        username: await freeUsername(deps, account.username || `plex-${account.plexId}`),
        role: access.owned ? "admin" : "user",
        plexId: account.plexId,
        permissions: [...settings.defaultPermissions],
        ...settings.defaultQuotas,
        ...profile,
      }),
    );
    await audit(
      deps,
      { ...actor, user },
      "user.create",
      { type: "user", id: user.id },
      { method: "plex", username: user.username },
    );
    await alertAdminsOfNewUser(deps, user, "plex");
  }
  await audit(deps, { ...actor, user }, "signin.success", { type: "user", id: user.id }, { method: "plex" });
  return user;
}

/** Create a local account (admin action). */
export async function createLocalUser(
  deps: Pick<AppDeps, "database" | "log" | "secretBox" | "coordination">,
  input: { username: string; displayName: string; password: string; role: "admin" | "user" },
  actor: Actor,
): Promise<User> {
  const username = input.username.toLowerCase();
  if (await findUserByUsername(deps.database, username)) throw new AccountError("That user name is taken.", "username");
  const settings = await getAuthSettings(deps);
  const user = await insertUser(
    deps.database,
    newUserRow(crypto.randomUUID(), {
      username,
      displayName: input.displayName,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      permissions: [...settings.defaultPermissions],
      ...settings.defaultQuotas,
    }),
  );
  await audit(
    deps,
    actor,
    "user.create",
    { type: "user", id: user.id },
    { method: "local", username, role: input.role },
  );
  await alertAdminsOfNewUser(deps, user, "local");
  return user;
}

/** Add a Plex user by Plex user name or email before they sign in (the way in while automatic accounts are off). */
export async function invitePlexUser(
  deps: Pick<AppDeps, "database" | "log" | "secretBox">,
  input: { plexName: string; role: "admin" | "user" },
  actor: Actor,
): Promise<User> {
  if (!(await getPlexServer(deps)))
    throw new AccountError(
      "No Plex server is chosen yet, so nobody can sign in with Plex. Set up the Plex server under Integrations first.",
      "plexName",
    );
  const name = input.plexName.trim();
  const key = name.toLowerCase();
  if (await findUserByPlexInvite(deps.database, [key]))
    throw new AccountError("That Plex user is already on the list.", "plexName");
  const { users } = await listUsers(deps.database, { search: key, limit: 5 });
  if (users.some((u) => u.plexId !== null && (u.username === key || u.email?.toLowerCase() === key))) {
    throw new AccountError("That Plex user already has an account.", "plexName");
  }
  const settings = await getAuthSettings(deps);
  const user = await insertUser(
    deps.database,
    newUserRow(crypto.randomUUID(), {
      username: await freeUsername(deps, name.includes("@") ? name.split("@")[0]! : name),
      displayName: name.includes("@") ? name.split("@")[0]! : name,
      email: name.includes("@") ? name : null,
      role: input.role,
      plexInvite: key,
      permissions: [...settings.defaultPermissions],
      ...settings.defaultQuotas,
    }),
  );
  await audit(
    deps,
    actor,
    "user.create",
    { type: "user", id: user.id },
    { method: "plex-invite", plexName: name, role: input.role },
  );
  return user;
}

/**
 * Make a user an administrator with a new local password (medianest create-admin): a user of that name gets the
 * password and the admin role back and their sessions end; a free name becomes a new administrator.
 */
export async function restoreAdmin(
  deps: Pick<AppDeps, "database" | "log" | "coordination">,
  input: { username: string; password: string },
  actor: Actor,
): Promise<{ user: User; created: boolean }> {
  const username = input.username.toLowerCase();
  const passwordHash = await hashPassword(input.password);
  const existing = await findUserByUsername(deps.database, username);
  if (existing) {
    const user = (await updateUser(deps.database, existing.id, { passwordHash, role: "admin", status: "active" }))!;
    await endUserSessions(deps, existing.id);
    await audit(deps, actor, "user.password_reset", { type: "user", id: existing.id }, { username, role: "admin" });
    return { user, created: false };
  }
  const user = await insertUser(
    deps.database,
    newUserRow(crypto.randomUUID(), { username, displayName: username, role: "admin", passwordHash }),
  );
  await audit(deps, actor, "user.create", { type: "user", id: user.id }, { username, role: "admin" });
  return { user, created: true };
}

/** Change a user's own password after checking the current one; ends their other sessions. */
export async function changePassword(
  deps: Pick<AppDeps, "database" | "log" | "coordination">,
  user: User,
  current: string,
  next: string,
  keepSessionHash: string | undefined,
  actor: Actor,
): Promise<void> {
  if (user.passwordHash && !(await Bun.password.verify(current, user.passwordHash).catch(() => false))) {
    throw new AccountError("The current password is wrong.", "current");
  }
  await updateUser(deps.database, user.id, { passwordHash: await hashPassword(next) });
  await endUserSessions(deps, user.id, keepSessionHash);
  await audit(deps, actor, "user.password_change", { type: "user", id: user.id });
}
