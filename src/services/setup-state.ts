import { eq } from "drizzle-orm";
import type { AppDeps } from "../app/deps";
import { adminExists } from "../store/users";

/** The settings row the first administrator's creation claims (services/accounts.ts). */
export const SETUP_CLAIM = "setup.admin_id";

/** True while the first administrator has not been created. Apart from accounts: the setup gate runs on every request. */
export async function setupOpen(deps: Pick<AppDeps, "database">): Promise<boolean> {
  const { db, tables } = deps.database;
  const [claim] = await db.select().from(tables.settings).where(eq(tables.settings.key, SETUP_CLAIM)).limit(1);
  return !claim && !(await adminExists(deps.database));
}
