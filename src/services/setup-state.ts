import type { AppDeps } from "../app/deps";
import { settingExists } from "../store/settings";
import { adminExists } from "../store/users";

/** The settings row the first administrator's creation claims (services/accounts.ts). */
export const SETUP_CLAIM = "setup.admin_id";

/** True while the first administrator has not been created. Apart from accounts: the setup gate runs on every request. */
export async function setupOpen(deps: Pick<AppDeps, "database">): Promise<boolean> {
  return !(await settingExists(deps.database, SETUP_CLAIM)) && !(await adminExists(deps.database));
}
