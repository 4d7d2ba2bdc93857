import type { Logger } from "../app/logger";
import type { Config } from "../config/options";
import { createCoordination } from "../coordination";
import { migrate } from "../db/migrate";
import { openDatabase } from "../server/runtime";
import { passwordRule, restoreAdmin, usernameRule } from "../services/accounts";
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
  const username = usernameRule.safeParse(args[0] ?? "");
  if (!username.success) {
    throw new CliError(
      `create-admin: user name: ${username.error.issues[0]?.message} Usage: medianest create-admin NAME`,
      2,
    );
  }
  const password = passwordRule.safeParse(await readPassword());
  if (!password.success) throw new CliError(`create-admin: password: ${password.error.issues[0]?.message}`, 2);
  const database = await openDatabase(config, log);
  // The command line reaches no live stream: servers notice the ended sessions at their next session check (on
  // SQLite within the 2 s a session is kept, src/store/kept.ts).
  const coordination = await createCoordination();
  try {
    await migrate(database);
    const { created } = await restoreAdmin(
      { database, log, coordination },
      { username: username.data, password: password.data },
      { name: "command line" },
    );
    console.log(
      created
        ? `administrator ${username.data} created`
        : `${username.data} is an administrator again with the new password; their sessions were ended`,
    );
    return 0;
  } finally {
    await coordination.close();
    await database.close();
  }
}
