/** The configured Seerr as the pages, jobs and webhooks use it: one client, the cache keys, cached answers. */
import { createHash } from "node:crypto";
import { createSeerrClient, type SeerrClient } from "../integrations/seerr/client";
import type { AppDeps } from "../app/deps";
import { integrationObserver } from "./integration-observer";
import { getIntegrations, type SeerrIntegration } from "./integrations";

export type SeerrDeps = Pick<AppDeps, "database" | "secretBox" | "fetch" | "metrics" | "coordination" | "log"> &
  Partial<Pick<AppDeps, "integrationTimeoutMs">>;

/** How long a page waits for Seerr before saying it did not answer. */
export const SEERR_TIMEOUT_MS = 5000;
/** How long a failed Seerr answer is remembered, so a down server is not asked again by every page. */
export const SEERR_FAILURE_TTL_MS = 5000;

/** The configured Seerr and a client for it (acting as the API key's owner). */
export interface ConfiguredSeerr {
  settings: SeerrIntegration;
  client: SeerrClient;
  /** A short, stable name for this Seerr (its address hashed) to key cached answers by. */
  cacheId: string;
}

// One client per read of the settings (getIntegrations keeps each read a second), not one per page that shows
// something from Seerr: the client and the hashed address were built again on every dashboard.
const built = new WeakMap<
  SeerrIntegration,
  { deps: SeerrDeps; fetch: SeerrDeps["fetch"]; timeoutMs: number | undefined; seerr: ConfiguredSeerr }
>();

/** Return the configured Seerr, or undefined when none is. */
export async function configuredSeerr(deps: SeerrDeps): Promise<ConfiguredSeerr | undefined> {
  const { seerr } = await getIntegrations(deps);
  if (!seerr) return undefined;
  const hit = built.get(seerr);
  if (hit && hit.deps === deps && hit.fetch === deps.fetch && hit.timeoutMs === deps.integrationTimeoutMs)
    return hit.seerr;
  const configured = configure(deps, seerr);
  built.set(seerr, { deps, fetch: deps.fetch, timeoutMs: deps.integrationTimeoutMs, seerr: configured });
  return configured;
}

function configure(deps: SeerrDeps, seerr: SeerrIntegration): ConfiguredSeerr {
  return {
    settings: seerr,
    client: createSeerrClient({
      baseUrl: seerr.url,
      apiKey: seerr.apiKey,
      fetch: deps.fetch,
      timeoutMs: deps.integrationTimeoutMs ?? SEERR_TIMEOUT_MS,
      observer: integrationObserver(deps),
    }),
    cacheId: createHash("sha256").update(seerr.url).digest("base64url").slice(0, 12),
  };
}

/** A Seerr answer as the cache holds it: the data, or the readable reason it could not be had. */
export type SeerrResult<T> = { ok: true; data: T; at: number } | { ok: false; error: string; at: number };

function isResult<T>(hit: unknown): hit is SeerrResult<T> {
  if (!hit || typeof hit !== "object") return false;
  const h = hit as { ok?: unknown; data?: unknown; error?: unknown };
  return h.ok === true ? h.data !== undefined : h.ok === false && typeof h.error === "string";
}

/** Read a cached Seerr answer without asking Seerr; undefined when none is cached (or the cache is away). */
export async function peekSeerr<T>(deps: SeerrDeps, key: string): Promise<SeerrResult<T> | undefined> {
  try {
    const hit = await deps.coordination.cache.get<SeerrResult<T>>(key);
    // The cache may be shared with another version during a rolling upgrade: use only what has the right shape.
    return isResult<T>(hit) ? hit : undefined;
  } catch (err) {
    deps.log.warn("seerr: cannot read the cache", { key, error: (err as Error).message });
    return undefined;
  }
}

/**
 * Return a cached Seerr answer, or ask Seerr, cache what it said for ttlMs (a failure for a few seconds) and return
 * it. Never throws: a failure is a result whose error a page can show.
 */
export async function cachedSeerr<T>(
  deps: SeerrDeps,
  key: string,
  ttlMs: number,
  compute: () => Promise<T>,
): Promise<SeerrResult<T>> {
  const hit = await peekSeerr<T>(deps, key);
  if (hit) return hit;
  try {
    return await deps.coordination.cache.wrap<SeerrResult<T>>(key, ttlMs, async () => ({
      ok: true,
      data: await compute(),
      at: Date.now(),
    }));
  } catch (err) {
    const failure: SeerrResult<T> = { ok: false, error: (err as Error).message, at: Date.now() };
    await deps.coordination.cache.set(key, failure, SEERR_FAILURE_TTL_MS).catch(() => {});
    return failure;
  }
}
