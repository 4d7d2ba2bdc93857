import type { AppDeps } from "../app/deps";
import { endUserSessions } from "./sessions";
import { deleteApiTokensByUser } from "../store/api-tokens";
import { countActiveUsers, findUserById, updateUser, type User } from "../store/users";
import { AccountError, hashPassword } from "./accounts";
import { audit, type Actor } from "./audit";
import type { Quotas } from "./auth-settings";
import type { Permission } from "./permissions";

type Deps = Pick<AppDeps, "database" | "log" | "coordination">;

async function assertNotLastAdmin(deps: Deps, target: User, what: string): Promise<void> {
  // Read again under the lock: the row the page loaded may be stale by now.
  const current = (await findUserById(deps.database, target.id)) ?? target;
  if (
    current.role === "admin" &&
    current.status === "active" &&
    (await countActiveUsers(deps.database, "admin")) <= 1
  ) {
    throw new AccountError(`${what} would leave MediaNest without an active administrator.`);
  }
}

/**
 * Run a change that could remove an administrator under one lock shared by every replica, so two admins demoting,
 * disabling or deleting each other at the same moment cannot both pass the "last administrator" check.
 */
async function withAdminsLock<T>(deps: Deps, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lock = await deps.coordination.locks.tryAcquire("users:admins", 10_000);
    if (lock) {
      try {
        return await run();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline) throw new AccountError("Another change to administrators is under way; try again.");
    await Bun.sleep(20);
  }
}

/** Change a user's role, permissions and quotas; records each change in the audit log. */
export async function updateUserAccess(
  deps: Deps,
  actor: Actor,
  target: User,
  change: { role: "admin" | "user"; permissions: Permission[]; quotas: Quotas },
): Promise<User> {
  return withAdminsLock(deps, async () => {
    if (target.status === "deleted") throw new AccountError("This user was deleted.");
    if (target.role === "admin" && change.role !== "admin")
      await assertNotLastAdmin(deps, target, "Making this user a member");
    const before = {
      role: target.role,
      permissions: [...target.permissions].sort(),
      quotas: {
        requestsPerDay: target.requestsPerDay,
        requestsPerWeek: target.requestsPerWeek,
        downloadsPerHour: target.downloadsPerHour,
        downloadsPerDay: target.downloadsPerDay,
        storageCapBytes: target.storageCapBytes,
      },
    };
    const after = { role: change.role, permissions: [...change.permissions].sort(), quotas: change.quotas };
    const updated = (await updateUser(deps.database, target.id, {
      role: change.role,
      permissions: after.permissions,
      ...change.quotas,
    }))!;
    const t = { type: "user", id: target.id };
    if (before.role !== after.role)
      await audit(deps, actor, "user.role_change", t, { username: target.username, from: before.role, to: after.role });
    if (JSON.stringify(before.permissions) !== JSON.stringify(after.permissions)) {
      await audit(deps, actor, "user.permissions_change", t, {
        username: target.username,
        from: before.permissions,
        to: after.permissions,
      });
    }
    if (JSON.stringify(before.quotas) !== JSON.stringify(after.quotas)) {
      await audit(deps, actor, "user.quotas_change", t, {
        username: target.username,
        from: before.quotas,
        to: after.quotas,
      });
    }
    return updated;
  });
}

/** Disable a user: they cannot sign in and their sessions end at once. */
export async function disableUser(deps: Deps, actor: Actor, target: User): Promise<User> {
  return withAdminsLock(deps, async () => {
    if (target.status !== "active") return target;
    await assertNotLastAdmin(deps, target, "Disabling this user");
    const updated = (await updateUser(deps.database, target.id, { status: "disabled" }))!;
    const ended = await endUserSessions(deps, target.id);
    await audit(
      deps,
      actor,
      "user.disable",
      { type: "user", id: target.id },
      { username: target.username, sessionsEnded: ended },
    );
    return updated;
  });
}

/** Enable a disabled user again. */
export async function enableUser(deps: Deps, actor: Actor, target: User): Promise<User> {
  if (target.status !== "disabled") return target;
  const updated = (await updateUser(deps.database, target.id, { status: "active" }))!;
  await audit(deps, actor, "user.enable", { type: "user", id: target.id }, { username: target.username });
  return updated;
}

/**
 * Delete a user: their row stays (history keeps pointing at it and shows a deleted user), but credentials, links
 * to Plex and OIDC, sessions and API tokens are removed, and the user name is freed.
 */
export async function deleteUser(deps: Deps, actor: Actor, target: User): Promise<User> {
  return withAdminsLock(deps, async () => {
    if (target.status === "deleted") return target;
    await assertNotLastAdmin(deps, target, "Deleting this user");
    await endUserSessions(deps, target.id);
    await deleteApiTokensByUser(deps.database, target.id);
    const updated = (await updateUser(deps.database, target.id, {
      status: "deleted",
      username: `deleted-${target.id.slice(0, 8)}`,
      displayName: `${target.displayName} (deleted)`,
      email: null,
      avatarUrl: null,
      passwordHash: null,
      plexId: null,
      plexUuid: null,
      plexTokenEnc: null,
      plexTokenServer: null,
      oidcIssuer: null,
      oidcSubject: null,
      role: "user",
    }))!;
    await audit(deps, actor, "user.delete", { type: "user", id: target.id }, { username: target.username });
    return updated;
  });
}

/** Change a user's display name (admin action); audited with the old and new name. */
export async function renameUser(deps: Deps, actor: Actor, target: User, displayName: string): Promise<User> {
  if (displayName === target.displayName) return target;
  const updated = (await updateUser(deps.database, target.id, { displayName }))!;
  await audit(
    deps,
    actor,
    "user.profile_change",
    { type: "user", id: target.id },
    { from: target.displayName, to: displayName },
  );
  return updated;
}

/**
 * Give a local account a new password (admin action): every session of that user ends at once, so whoever knew
 * the old password is out. Only accounts that sign in with a password have one to reset.
 */
export async function resetUserPassword(deps: Deps, actor: Actor, target: User, password: string): Promise<User> {
  if (!target.passwordHash)
    throw new AccountError("This user signs in with Plex or single sign-on and has no password to reset.", "password");
  if (target.status !== "active") throw new AccountError("Enable this user before giving them a new password.");
  const updated = (await updateUser(deps.database, target.id, { passwordHash: await hashPassword(password) }))!;
  await endUserSessions(deps, target.id);
  await audit(deps, actor, "user.password_reset", { type: "user", id: target.id }, { by: "administrator" });
  return updated;
}
