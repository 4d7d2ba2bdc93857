import type { AppDeps } from "../server/deps";
import { deleteSetting, findSetting, upsertSetting } from "../store/settings";
import { audit, type Actor } from "./audit";
import { publishEvent, topics } from "./events";

const KEY = "notice.text";
const CACHE_KEY = "notice:text";

/** Read the maintenance notice shown to everyone; null when none. Cached briefly: every page shows it. */
export async function getNotice(deps: Pick<AppDeps, "database" | "secretBox" | "coordination">): Promise<string | null> {
  const cached = await deps.coordination.cache.wrap(CACHE_KEY, 30_000, async () => ({ text: (await findSetting(deps.database, deps.secretBox, KEY)) ?? null }));
  return cached.text;
}

/** Post or clear the maintenance notice; open pages show the change at once. */
export async function setNotice(deps: Pick<AppDeps, "database" | "secretBox" | "coordination" | "log">, actor: Actor, text: string | null): Promise<void> {
  if (text) await upsertSetting(deps.database, deps.secretBox, KEY, text);
  else await deleteSetting(deps.database, KEY);
  await deps.coordination.cache.delete(CACHE_KEY);
  await audit(deps, actor, "settings.change", { type: "settings", id: "notice" }, { notice: text });
  await publishEvent(deps, topics.everyone, { type: "notice", text });
}
