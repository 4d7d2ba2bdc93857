import { createHash } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import { checkDuration, checkRateLimit, createWrap, deliver, encodeJson } from "./memory";
import type { Cache, Coordination, Lock, Locks, PubSub, RateLimiter, RateLimitResult, Unsubscribe } from "./types";

/** Configure where in a shared Redis this deployment keeps its keys. */
export interface RedisCoordinationOptions {
  /** Prefix of every key and pub/sub channel, so several deployments can share one Redis (default "medianest:"). */
  keyPrefix?: string;
}

interface Script {
  lua: string;
  sha: string;
}

function defineScript(lua: string): Script {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

const extendLockScript = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);

const releaseLockScript = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

// Sliding log in a sorted set scored by Redis's own clock, so replicas with skewed clocks agree.
// Returns {allowed, remaining, retryAfterMs}. Refused hits are not recorded.
const hitScript = defineScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local retry = tonumber(oldest[2]) + window - now
if retry < 1 then retry = 1 end
return {0, 0, retry}`);

async function run<T>(operation: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new Error(`coordination: redis ${operation} failed: ${(error as Error).message}`, { cause: error });
  }
}

async function runScript(client: Redis, script: Script, key: string, args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, 1, key, ...args);
  } catch (error) {
    // The script cache is empty after a Redis restart or failover; EVAL loads it again.
    if (!(error as Error).message.startsWith("NOSCRIPT")) throw error;
    return await client.eval(script.lua, 1, key, ...args);
  }
}

function createRedisCache(client: Redis, prefix: string): Cache {
  const base: Pick<Cache, "get" | "set" | "delete"> = {
    async get<T>(key: string): Promise<T | undefined> {
      const json = await run("GET", () => client.get(prefix + key));
      if (json === null) return undefined;
      try {
        return JSON.parse(json) as T;
      } catch (error) {
        throw new Error(`coordination: cache value for ${key} is not JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
    async set(key, value, ttlMs) {
      const ttl = checkDuration(ttlMs, "cache TTL");
      if (value === undefined || ttl <= 0) {
        await run("DEL", () => client.del(prefix + key));
        return;
      }
      const json = encodeJson(value, `cache value for ${key}`);
      await run("SET", () => client.set(prefix + key, json, "PX", ttl));
    },
    async delete(key) {
      await run("DEL", () => client.del(prefix + key));
    },
  };
  return { ...base, wrap: createWrap(base) };
}

function createRedisPubSub(client: Redis, subscriber: Redis, prefix: string): PubSub {
  interface Subscriber {
    handler: (message: unknown) => void;
  }
  interface Channel {
    subscribers: Set<Subscriber>;
    ready: Promise<void>;
  }
  const channels = new Map<string, Channel>();

  subscriber.on("message", (channelName: string, raw: string) => {
    const channel = channels.get(channelName);
    if (!channel) return;
    const topic = channelName.slice(prefix.length);
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch (error) {
      console.error(`coordination: dropped a message on ${topic} that is not JSON:`, error);
      return;
    }
    for (const s of [...channel.subscribers]) {
      if (channel.subscribers.has(s)) deliver(topic, s.handler, message);
    }
  });

  return {
    async publish(topic, message) {
      const json = encodeJson(message, `message on ${topic}`);
      await run("PUBLISH", () => client.publish(prefix + topic, json));
    },
    async subscribe(topic, handler): Promise<Unsubscribe> {
      const name = prefix + topic;
      let channel = channels.get(name);
      if (!channel) {
        const ready = run("SUBSCRIBE", () => subscriber.subscribe(name)).then(() => {});
        channel = { subscribers: new Set(), ready };
        channels.set(name, channel);
      }
      const entry = channel;
      const s: Subscriber = { handler };
      entry.subscribers.add(s);
      try {
        await entry.ready;
      } catch (error) {
        entry.subscribers.delete(s);
        if (entry.subscribers.size === 0 && channels.get(name) === entry) channels.delete(name);
        throw error;
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        entry.subscribers.delete(s);
        if (entry.subscribers.size > 0 || channels.get(name) !== entry) return;
        channels.delete(name);
        await entry.ready.catch(() => {});
        // A new subscriber may have arrived meanwhile; its SUBSCRIBE then keeps the channel.
        if (channels.has(name)) return;
        try {
          await run("UNSUBSCRIBE", () => subscriber.unsubscribe(name));
        } catch (error) {
          // Delivery has already stopped locally; callers unsubscribe in cleanup paths that must not throw.
          console.warn(`coordination: unable to unsubscribe from ${topic}:`, (error as Error).message);
        }
      };
    },
  };
}

function createRedisLocks(client: Redis, prefix: string): Locks {
  return {
    async tryAcquire(key, ttlMs): Promise<Lock | undefined> {
      const ttl = checkDuration(ttlMs, "lock TTL");
      if (ttl < 1) throw new RangeError(`coordination: lock TTL must be positive, got ${ttlMs}`);
      const redisKey = prefix + key;
      const token = crypto.randomUUID();
      const reply = await run("SET NX", () => client.set(redisKey, token, "PX", ttl, "NX"));
      if (reply !== "OK") return undefined;
      return {
        key,
        async extend(extendMs) {
          const extendBy = checkDuration(extendMs, "lock TTL");
          if (extendBy < 1) return false;
          const extended = await run("lock extend", () =>
            runScript(client, extendLockScript, redisKey, [token, extendBy]),
          );
          return extended === 1;
        },
        async release() {
          await run("lock release", () => runScript(client, releaseLockScript, redisKey, [token]));
        },
      };
    },
  };
}

function createRedisRateLimiter(client: Redis, prefix: string): RateLimiter {
  return {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      const window = checkRateLimit(limit, windowMs);
      const reply = await run("rate-limit hit", () =>
        runScript(client, hitScript, prefix + key, [limit, window, crypto.randomUUID()]),
      );
      if (!Array.isArray(reply) || reply.length !== 3) {
        throw new Error(`coordination: unexpected rate-limit reply: ${JSON.stringify(reply)}`);
      }
      const [allowed, remaining, retryAfterMs] = reply.map(Number) as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
    async reset(key) {
      await run("DEL", () => client.del(prefix + key));
    },
  };
}

async function quit(connection: Redis): Promise<void> {
  if (connection.status === "ready") {
    try {
      await connection.quit();
      return;
    } catch {
      // Fall through: the connection died while quitting.
    }
  }
  connection.disconnect();
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return "the configured URL";
  }
}

/** Connect to Redis and return coordination shared by every replica that uses the same URL and key prefix. */
export async function createRedisCoordination(url: string, opts: RedisCoordinationOptions = {}): Promise<Coordination> {
  const prefix = opts.keyPrefix ?? "medianest:";
  const where = describeUrl(url);
  // Loaded here, not at the top: SQLite/memory mode must not pay for ioredis at start-up.
  const { Redis } = await import("ioredis");

  // Fail fast while Redis is away: pages get a clear error and /readyz says so, instead of requests hanging
  // in the offline queue. Reconnection keeps going in the background.
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  const client = new Redis(url, {
    ...common,
    enableOfflineQueue: false,
    commandTimeout: 2_000,
    connectionName: "medianest",
  });
  // The subscriber keeps its offline queue so (re)subscriptions made during a reconnect go out once it is back.
  const subscriber = new Redis(url, { ...common, connectionName: "medianest-subscriber" });

  for (const [name, connection] of [
    ["commands", client],
    ["subscriber", subscriber],
  ] as const) {
    let healthy = true;
    connection.on("ready", () => {
      if (!healthy) console.warn(`coordination: Redis ${name} connection to ${where} is back`);
      healthy = true;
    });
    connection.on("error", (error: Error) => {
      if (healthy) console.warn(`coordination: Redis ${name} connection to ${where} failed: ${error.message}`);
      healthy = false;
    });
  }

  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (error) {
    client.disconnect();
    subscriber.disconnect();
    throw new Error(`coordination: unable to connect to Redis at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  let closed = false;
  return {
    kind: "redis",
    cache: createRedisCache(client, `${prefix}cache:`),
    pubsub: createRedisPubSub(client, subscriber, `${prefix}events:`),
    locks: createRedisLocks(client, `${prefix}lock:`),
    rateLimiter: createRedisRateLimiter(client, `${prefix}ratelimit:`),
    async ping() {
      if (closed || subscriber.status !== "ready") return false;
      try {
        return (await client.ping()) === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([quit(client), quit(subscriber)]);
    },
  };
}
