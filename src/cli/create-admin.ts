import type { Config } from "../config/options";
import { migrate } from "../db/migrate";
import type { Logger } from "../app/logger";
import { openDatabase } from "../server/runtime";
import { insertAuditEntry } from "../store/audit";
import { deleteSessionsByUser } from "../store/sessions";
import { findUserByUsername, insertUser, updateUser } from "../store/users";
import { DEFAULT_PERMISSIONS } from "../services/permissions";
import { CliError } from "./errors";

async function readPassword(): Promise<string> {
  const fromEnv = process.env.MEDIANEST_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    const text = await Bun.stdin.text();
    return text.split("\n")[0] ?? "";
  }
  const answer = prompt("Password for the administrator (at least 10 characters):");
  return answer ?? "";
}

/** Create an administrator with a password, or reset an existing user's password and make them admin again. */
export async function createAdmin(config: Config, log: Logger, args: string[]): Promise<number> {
  const username = (args[0] ?? "").trim().toLowerCase();
  if (!/^[a-z0-9._-]{2,40}$/.test(username)) {
    throw new CliError(
      "create-admin: give a user name of 2 to 40 letters, digits, dots, dashes or underscores: medianest create-admin NAME",
      2,
    );
  }
  const password = await readPassword();
  if (password.length < 10) throw new CliError("create-admin: the password must be at least 10 characters", 2);
  const database = await openDatabase(config, log);
  try {
    await migrate(database);
    const passwordHash = await Bun.password.hash(password, { algorithm: "argon2id" });
    const existing = await findUserByUsername(database, username);
    const now = new Date();
    if (existing) {
      await updateUser(database, existing.id, { passwordHash, role: "admin", status: "active" });
      await deleteSessionsByUser(database, existing.id);
      await insertAuditEntry(database, {
        actorId: null,
        actorName: "command line",
        action: "user.password_reset",
        targetType: "user",
        targetId: existing.id,
        detail: { username, role: "admin" },
        ip: null,
      });
      console.log(`${username} is an administrator again with the new password; their sessions were ended`);
    } else {
      const user = await insertUser(database, {
        id: crypto.randomUUID(),
        username,
        displayName: username,
        role: "admin",
        status: "active",
        passwordHash,
        permissions: [...DEFAULT_PERMISSIONS],
        createdAt: now,
        updatedAt: now,
      });
      await insertAuditEntry(database, {
        actorId: null,
        actorName: "command line",
        action: "user.create",
        targetType: "user",
        targetId: user.id,
        detail: { username, role: "admin" },
        ip: null,
      });
      console.log(`administrator ${username} created`);
    }
    return 0;
  } finally {
    await database.close();
  }
}
