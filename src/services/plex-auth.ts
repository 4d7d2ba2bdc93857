import type { AppDeps } from "../app/deps";
import { createPlexTvClient, type PlexTvClient } from "../integrations/plextv/client";
import { VERSION } from "../version";
import { plexClientIdentifier } from "./auth-settings";
import { integrationObserver } from "./integration-observer";

/** Build the plex.tv client for this installation (its stable client identifier, configured base URLs). */
export async function plexTvClient(
  deps: Pick<AppDeps, "database" | "secretBox" | "config" | "fetch" | "metrics">,
): Promise<PlexTvClient> {
  return createPlexTvClient({
    baseUrl: deps.config.plexTvUrl,
    appAuthBaseUrl: deps.config.plexAppUrl,
    clientIdentifier: await plexClientIdentifier(deps),
    version: VERSION,
    deviceName: "MediaNest",
    fetch: deps.fetch,
    observer: integrationObserver(deps),
  });
}
