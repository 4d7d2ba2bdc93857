import { createMemoryCoordination, type MemoryCoordinationOptions } from "./memory";
import type { RedisCoordinationOptions } from "./redis";
import type { Coordination } from "./types";

export type * from "./types";

/** Accept the options of either implementation; each ignores the other's. */
export type CoordinationOptions = MemoryCoordinationOptions & RedisCoordinationOptions;

/** Create Redis coordination when a Redis URL is given, in-memory coordination otherwise. */
export async function createCoordination(redisUrl?: string, opts: CoordinationOptions = {}): Promise<Coordination> {
  if (!redisUrl) return createMemoryCoordination(opts);
  // Loaded only for Redis: a single server starts without it.
  const { createRedisCoordination } = await import("./redis");
  return createRedisCoordination(redisUrl, opts);
}
