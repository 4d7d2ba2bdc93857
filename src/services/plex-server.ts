import { createPlexClient, type PlexClient } from "../integrations/plex/client";
import type { AppDeps } from "../app/deps";
import { VERSION } from "../version";
import { plexClientIdentifier } from "./auth-settings";
import { integrationObserver } from "./integration-observer";
import type { PlexIntegration } from "./integrations";

/** Build a client for the configured Plex Media Server, using the owner's token (server-side only). */
export async function plexServerClient(
  deps: Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics">,
  plex: PlexIntegration,
): Promise<PlexClient> {
  return createPlexClient({
    baseUrl: plex.url,
    token: plex.token,
    clientIdentifier: await plexClientIdentifier(deps),
    version: VERSION,
    fetch: deps.fetch,
    observer: integrationObserver(deps),
  });
}
