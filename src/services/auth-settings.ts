import { z } from "zod";
import type { AppDeps } from "../app/deps";
import { findSetting, insertSettingIfAbsent, listSettings, upsertSetting } from "../store/settings";
import { DEFAULT_PERMISSIONS, PERMISSIONS, type Permission } from "./permissions";

/** Quotas a user is held to; null means no limit. */
export interface Quotas {
  requestsPerDay: number | null;
  requestsPerWeek: number | null;
  downloadsPerHour: number | null;
  downloadsPerDay: number | null;
  storageCapBytes: number | null;
}

/** How new accounts are made and what they get. */
export interface AuthSettings {
  autoCreate: boolean;
  defaultPermissions: Permission[];
  defaultQuotas: Quotas;
}

/** The Plex server this household uses, chosen at setup. */
export interface PlexServerSettings {
  machineIdentifier: string;
  name: string;
  url: string | null;
  ownerToken: string | null;
}

const quotasSchema = z.object({
  // Saved before the daily quota existed: no daily limit.
  requestsPerDay: z.number().int().nullable().default(null),
  requestsPerWeek: z.number().int().nullable(),
  downloadsPerHour: z.number().int().nullable(),
  downloadsPerDay: z.number().int().nullable(),
  storageCapBytes: z.number().int().nullable(),
});

export const NO_QUOTAS: Quotas = {
  requestsPerDay: null,
  requestsPerWeek: null,
  downloadsPerHour: null,
  downloadsPerDay: null,
  storageCapBytes: null,
};

/** The quotas new accounts get until an admin changes the defaults: five downloads an hour, nothing else. */
export const DEFAULT_QUOTAS: Quotas = { ...NO_QUOTAS, downloadsPerHour: 5 };

/** Read the account settings, with defaults for anything unset. */
export async function getAuthSettings(deps: Pick<AppDeps, "database" | "secretBox">): Promise<AuthSettings> {
  const s = await listSettings(deps.database, deps.secretBox, "auth.");
  const perms = safeJson(s.get("auth.default_permissions"), z.array(z.enum(PERMISSIONS))) ?? DEFAULT_PERMISSIONS;
  return {
    autoCreate: s.get("auth.auto_create") !== "false",
    defaultPermissions: perms,
    defaultQuotas: safeJson(s.get("auth.default_quotas"), quotasSchema) ?? DEFAULT_QUOTAS,
  };
}

/** Save the account settings. */
export async function saveAuthSettings(
  deps: Pick<AppDeps, "database" | "secretBox">,
  settings: AuthSettings,
): Promise<void> {
  await upsertSetting(deps.database, deps.secretBox, "auth.auto_create", String(settings.autoCreate));
  await upsertSetting(
    deps.database,
    deps.secretBox,
    "auth.default_permissions",
    JSON.stringify(settings.defaultPermissions),
  );
  await upsertSetting(deps.database, deps.secretBox, "auth.default_quotas", JSON.stringify(settings.defaultQuotas));
}

/** Read the chosen Plex server; undefined until setup picked one. */
export async function getPlexServer(
  deps: Pick<AppDeps, "database" | "secretBox">,
): Promise<PlexServerSettings | undefined> {
  const s = await listSettings(deps.database, deps.secretBox, "plex.");
  const machineIdentifier = s.get("plex.machine_identifier");
  if (!machineIdentifier) return undefined;
  return {
    machineIdentifier,
    name: s.get("plex.server_name") ?? "Plex",
    url: s.get("plex.server_url") ?? null,
    ownerToken: s.get("plex.owner_token") ?? null,
  };
}

/** Save the chosen Plex server; the owner token is stored encrypted. */
export async function savePlexServer(
  deps: Pick<AppDeps, "database" | "secretBox">,
  server: PlexServerSettings,
): Promise<void> {
  const { database, secretBox } = deps;
  await upsertSetting(database, secretBox, "plex.machine_identifier", server.machineIdentifier);
  await upsertSetting(database, secretBox, "plex.server_name", server.name);
  if (server.url) await upsertSetting(database, secretBox, "plex.server_url", server.url);
  if (server.ownerToken) await upsertSetting(database, secretBox, "plex.owner_token", server.ownerToken, true);
}

/** Return this installation's stable Plex client identifier, creating it on first use. */
export async function plexClientIdentifier(deps: Pick<AppDeps, "database" | "secretBox">): Promise<string> {
  const existing = await findSetting(deps.database, deps.secretBox, "plex.client_id");
  if (existing) return existing;
  const id = crypto.randomUUID();
  // Two replicas may race here; the first insert wins and both read it back.
  await insertSettingIfAbsent(deps.database, "plex.client_id", id);
  return (await findSetting(deps.database, deps.secretBox, "plex.client_id"))!;
}

function safeJson<T>(raw: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (!raw) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
