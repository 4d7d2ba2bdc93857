import type { AppDeps } from "../server/deps";
import { listSettings, upsertSetting } from "../store/settings";

/** The OpenID Connect provider the admin configured. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Button label: "Sign in with <displayName>". */
  displayName: string;
  /** Claim holding the user's groups (e.g. "groups"); empty when not used. */
  groupClaim: string;
  /** Members of this group become admins. */
  adminGroup: string;
}

/** Read the OIDC settings; undefined when OIDC is not configured. */
export async function getOidcSettings(deps: Pick<AppDeps, "database" | "secretBox">): Promise<OidcSettings | undefined> {
  const s = await listSettings(deps.database, deps.secretBox, "oidc.");
  const issuer = s.get("oidc.issuer");
  const clientId = s.get("oidc.client_id");
  if (!issuer || !clientId) return undefined;
  return {
    issuer,
    clientId,
    clientSecret: s.get("oidc.client_secret") ?? "",
    displayName: s.get("oidc.display_name") || "single sign-on",
    groupClaim: s.get("oidc.group_claim") ?? "",
    adminGroup: s.get("oidc.admin_group") ?? "",
  };
}

/** Save the OIDC settings; the client secret is stored encrypted and kept when left empty. */
export async function saveOidcSettings(deps: Pick<AppDeps, "database" | "secretBox">, settings: OidcSettings): Promise<void> {
  const { database, secretBox } = deps;
  await upsertSetting(database, secretBox, "oidc.issuer", settings.issuer);
  await upsertSetting(database, secretBox, "oidc.client_id", settings.clientId);
  if (settings.clientSecret) await upsertSetting(database, secretBox, "oidc.client_secret", settings.clientSecret, true);
  await upsertSetting(database, secretBox, "oidc.display_name", settings.displayName);
  await upsertSetting(database, secretBox, "oidc.group_claim", settings.groupClaim);
  await upsertSetting(database, secretBox, "oidc.admin_group", settings.adminGroup);
}
