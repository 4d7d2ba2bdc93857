import type { AppDeps } from "../app/deps";
import { deleteSetting, findSetting, upsertSetting } from "../store/settings";
import { audit, type Actor } from "./audit";
import { publishEvent, topics } from "./events";

const KEY = "notice.text";
const CACHE_KEY = "notice:text";

// Every page shows the notice: each replica keeps it for a second on top of the shared cache (this replica's own
// changes clear it at once; other replicas' pages catch up within the second, open pages at once over SSE).
const LOCAL_MS = 1000;
const local = new WeakMap<object, { text: string | null; until: number }>();

/** The notice from this replica's one-second copy, without waiting; undefined when the copy is stale. */
export function peekNotice(deps: Pick<AppDeps, "coordination">): string | null | undefined {
  const hit = local.get(deps.coordination);
  return hit && hit.until > performance.now() ? hit.text : undefined;
}

/** Read the maintenance notice shown to everyone; null when none. */
export async function getNotice(
  deps: Pick<AppDeps, "database" | "secretBox" | "coordination">,
): Promise<string | null> {
  const hit = local.get(deps.coordination);
  if (hit && hit.until > performance.now()) return hit.text;
  const cached = await deps.coordination.cache.wrap(CACHE_KEY, 30_000, async () => ({
    text: (await findSetting(deps.database, deps.secretBox, KEY)) ?? null,
  }));
  local.set(deps.coordination, { text: cached.text, until: performance.now() + LOCAL_MS });
  return cached.text;
}

/** Post or clear the maintenance notice; open pages show the change at once. */
export async function setNotice(
  deps: Pick<AppDeps, "database" | "secretBox" | "coordination" | "log">,
  actor: Actor,
  text: string | null,
): Promise<void> {
  if (text) await upsertSetting(deps.database, deps.secretBox, KEY, text);
  else await deleteSetting(deps.database, KEY);
  await deps.coordination.cache.delete(CACHE_KEY);
  local.delete(deps.coordination);
  await audit(deps, actor, "settings.change", { type: "settings", id: "notice" }, { notice: text });
  await publishEvent(deps, topics.everyone, { type: "notice", text });
}
