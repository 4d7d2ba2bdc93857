/** Coordination primitives shared by every replica: in memory on one server, Redis in a cluster. */

/** Store short-lived values with an expiry. */
export interface Cache {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Store a JSON-serialisable value for ttlMs milliseconds. */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Return the cached value, or compute, store and return it; concurrent callers on one replica share one computation. */
  wrap<T>(key: string, ttlMs: number, compute: () => Promise<T>): Promise<T>;
}

export type Unsubscribe = () => Promise<void>;

/** Publish JSON messages on named topics; every replica's subscribers receive them. */
export interface PubSub {
  publish(topic: string, message: unknown): Promise<void>;
  subscribe(topic: string, handler: (message: unknown) => void): Promise<Unsubscribe>;
}

/** A held lock; release is safe to call twice and never releases someone else's lock. */
export interface Lock {
  readonly key: string;
  /** Extend the expiry; false when the lock was lost (expired and taken by another holder). */
  extend(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/** Mutual exclusion across replicas, with expiry so a dead holder cannot block forever. */
export interface Locks {
  /** Take the lock if free; undefined when someone else holds it. */
  tryAcquire(key: string, ttlMs: number): Promise<Lock | undefined>;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Hits left in the current window after this one. */
  remaining: number;
  /** Milliseconds until a refused caller may try again (0 when allowed). */
  retryAfterMs: number;
}

/** Count hits per key in a sliding window. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
}

export interface Coordination {
  kind: "memory" | "redis";
  cache: Cache;
  pubsub: PubSub;
  locks: Locks;
  rateLimiter: RateLimiter;
  /** True when the backing store answers (always true in memory). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
