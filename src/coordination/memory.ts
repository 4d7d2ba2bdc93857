import type { Cache, Coordination, Lock, Locks, PubSub, RateLimiter, RateLimitResult, Unsubscribe } from "./types";

/** Bound the memory that in-process coordination may hold. */
export interface MemoryCoordinationOptions {
  /** Most cache entries kept before the least recently used are dropped (default 10,000). */
  maxCacheEntries?: number;
  /** Most rate-limit keys tracked before the least recently hit are dropped (default 100,000). */
  maxRateLimitKeys?: number;
  /** How often expired cache entries are dropped (default CACHE_SWEEP_MS). */
  cacheSweepMs?: number;
}

// A monotonic clock, so a wall-clock adjustment cannot stretch or cut short a TTL.
const now = (): number => performance.now();

/** Serialise a value the way Redis would store it, so both implementations hand back the same shapes. */
export function encodeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new Error(`coordination: ${what} is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
  return text ?? "null";
}

/** Check a TTL or window length and round it up to whole milliseconds. */
export function checkDuration(ms: number, what: string): number {
  if (!Number.isFinite(ms))
    throw new RangeError(`coordination: ${what} must be a finite number of milliseconds, got ${ms}`);
  return Math.ceil(ms);
}

/** Check rate-limit arguments; limit must be a positive integer and the window positive. */
export function checkRateLimit(limit: number, windowMs: number): number {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`coordination: rate limit must be a positive integer, got ${limit}`);
  const window = checkDuration(windowMs, "rate-limit window");
  if (window < 1) throw new RangeError(`coordination: rate-limit window must be positive, got ${windowMs}`);
  return window;
}

/** Build Cache.wrap on top of get and set; concurrent callers for one key share a single computation. */
export function createWrap(cache: Pick<Cache, "get" | "set">): Cache["wrap"] {
  const inflight = new Map<string, Promise<unknown>>();
  return async <T>(key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> => {
    const pending = inflight.get(key);
    if (pending) return pending as Promise<T>;
    const run = (async () => {
      try {
        const cached = await cache.get<T>(key);
        if (cached !== undefined) return cached;
        const value = await compute();
        await cache.set(key, value, ttlMs);
        return value;
      } finally {
        inflight.delete(key);
      }
    })();
    inflight.set(key, run);
    return run;
  };
}

/**
 * How often expired cache entries are dropped. Without it an entry nobody reads again stayed until the cache was
 * full: after a busy hour, every search and title answer of the hour.
 */
export const CACHE_SWEEP_MS = 60_000;

function createMemoryCache(maxEntries: number, sweepMs: number): { cache: Cache; stop(): void } {
  // Map keeps insertion order; re-inserting on read makes the first key the least recently used.
  const entries = new Map<string, { json: string; expiresAt: number }>();

  const base: Pick<Cache, "get" | "set" | "delete"> = {
    async get<T>(key: string): Promise<T | undefined> {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expiresAt <= now()) return undefined;
      entries.set(key, entry);
      return JSON.parse(entry.json) as T;
    },
    async set(key, value, ttlMs) {
      const ttl = checkDuration(ttlMs, "cache TTL");
      entries.delete(key);
      if (value === undefined || ttl <= 0) return;
      entries.set(key, { json: encodeJson(value, `cache value for ${key}`), expiresAt: now() + ttl });
      if (entries.size > maxEntries) evict();
    },
    async delete(key) {
      entries.delete(key);
    },
  };

  function dropExpired(): void {
    const t = now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= t) entries.delete(key);
    }
  }

  function evict(): void {
    dropExpired();
    for (const key of entries.keys()) {
      if (entries.size <= maxEntries) break;
      entries.delete(key);
    }
  }

  const sweep = setInterval(dropExpired, sweepMs);
  sweep.unref();
  return { cache: { ...base, wrap: createWrap(base) }, stop: () => clearInterval(sweep) };
}

function createMemoryPubSub(): PubSub {
  const topics = new Map<string, Set<{ handler: (message: unknown) => void }>>();

  return {
    async publish(topic, message) {
      const subscribers = topics.get(topic);
      const json = encodeJson(message, `message on ${topic}`);
      if (!subscribers || subscribers.size === 0) return;
      // One parse per publish, shared by all local handlers, as each Redis replica does.
      const delivered: unknown = JSON.parse(json);
      for (const subscriber of [...subscribers]) {
        queueMicrotask(() => {
          if (!topics.get(topic)?.has(subscriber)) return;
          deliver(topic, subscriber.handler, delivered);
        });
      }
    },
    async subscribe(topic, handler): Promise<Unsubscribe> {
      const subscriber = { handler };
      let subscribers = topics.get(topic);
      if (!subscribers) topics.set(topic, (subscribers = new Set()));
      subscribers.add(subscriber);
      return async () => {
        const current = topics.get(topic);
        if (!current) return;
        current.delete(subscriber);
        if (current.size === 0) topics.delete(topic);
      };
    },
  };
}

/** Call one subscriber; a throwing handler is logged and never reaches the publisher or other handlers. */
export function deliver(topic: string, handler: (message: unknown) => void, message: unknown): void {
  try {
    handler(message);
  } catch (error) {
    console.error(`coordination: subscriber on ${topic} failed:`, error);
  }
}

function createMemoryLocks(): Locks {
  const held = new Map<string, { token: string; expiresAt: number }>();

  function current(key: string, token: string): { token: string; expiresAt: number } | undefined {
    const entry = held.get(key);
    if (!entry || entry.token !== token) return undefined;
    if (entry.expiresAt <= now()) {
      held.delete(key);
      return undefined;
    }
    return entry;
  }

  function sweep(): void {
    const t = now();
    for (const [key, entry] of held) if (entry.expiresAt <= t) held.delete(key);
  }

  return {
    async tryAcquire(key, ttlMs): Promise<Lock | undefined> {
      const ttl = checkDuration(ttlMs, "lock TTL");
      if (ttl < 1) throw new RangeError(`coordination: lock TTL must be positive, got ${ttlMs}`);
      const existing = held.get(key);
      if (existing && existing.expiresAt > now()) return undefined;
      if (held.size >= 1000) sweep();
      const token = crypto.randomUUID();
      held.set(key, { token, expiresAt: now() + ttl });
      return {
        key,
        async extend(extendMs) {
          const extendBy = checkDuration(extendMs, "lock TTL");
          const entry = current(key, token);
          if (!entry || extendBy < 1) return false;
          entry.expiresAt = now() + extendBy;
          return true;
        },
        async release() {
          if (held.get(key)?.token === token) held.delete(key);
        },
      };
    },
  };
}

function createMemoryRateLimiter(maxKeys: number): RateLimiter {
  // Sliding log: the times of the hits still inside the window, oldest first.
  const logs = new Map<string, { hits: number[]; windowMs: number }>();

  function prune(hits: number[], since: number): void {
    let expired = 0;
    while (expired < hits.length && (hits[expired] as number) <= since) expired++;
    if (expired > 0) hits.splice(0, expired);
  }

  function sweep(t: number): void {
    for (const [key, log] of logs) {
      const newest = log.hits[log.hits.length - 1];
      if (newest === undefined || newest <= t - log.windowMs) logs.delete(key);
    }
    for (const key of logs.keys()) {
      if (logs.size < maxKeys) break;
      logs.delete(key);
    }
  }

  return {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      const window = checkRateLimit(limit, windowMs);
      const t = now();
      let log = logs.get(key);
      if (log) {
        logs.delete(key);
      } else {
        if (logs.size >= maxKeys) sweep(t);
        log = { hits: [], windowMs: window };
      }
      logs.set(key, log);
      log.windowMs = window;
      prune(log.hits, t - window);
      if (log.hits.length < limit) {
        log.hits.push(t);
        return { allowed: true, remaining: limit - log.hits.length, retryAfterMs: 0 };
      }
      // Refused hits are not recorded, so a caller that keeps knocking is let in once the oldest hit leaves the window.
      const oldest = log.hits[log.hits.length - limit] as number;
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, Math.ceil(oldest + window - t)) };
    },
    async reset(key) {
      logs.delete(key);
    },
  };
}

/** Create single-process coordination: everything lives in this process's memory. */
export function createMemoryCoordination(options: MemoryCoordinationOptions = {}): Coordination {
  const { cache, stop } = createMemoryCache(options.maxCacheEntries ?? 10_000, options.cacheSweepMs ?? CACHE_SWEEP_MS);
  return {
    kind: "memory",
    cache,
    pubsub: createMemoryPubSub(),
    locks: createMemoryLocks(),
    rateLimiter: createMemoryRateLimiter(options.maxRateLimitKeys ?? 100_000),
    ping: async () => true,
    close: async () => stop(),
  };
}
