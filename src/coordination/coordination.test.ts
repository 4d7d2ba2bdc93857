import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { createCoordination } from "./index";
import { createMemoryCoordination } from "./memory";
import { createRedisCoordination } from "./redis";
import type { Coordination } from "./types";

const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const keyPrefix = `medianest-test:${crypto.randomUUID()}:`;

function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

async function probeRedis(): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function deletePrefix(prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await admin.quit();
  }
}

const redisAvailable = await probeRedis();
if (!redisAvailable) console.warn(`coordination: Redis not reachable at ${maskUrl(redisUrl)}, redis suite skipped`);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const unique = (name: string) => `${name}:${crypto.randomUUID()}`;

/** Poll until check() holds; fail with the message after timeoutMs. */
async function eventually(check: () => boolean, message: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${message}`);
    await sleep(5);
  }
}

const kinds = {
  memory: { available: true, create: async (): Promise<Coordination> => createMemoryCoordination() },
  redis: { available: redisAvailable, create: () => createRedisCoordination(redisUrl, { keyPrefix }) },
} as const;

for (const kind of ["memory", "redis"] as const) {
  describe.skipIf(!kinds[kind].available)(`coordination (${kind})`, () => {
    let c: Coordination;

    beforeAll(async () => {
      c = await kinds[kind].create();
    });

    afterAll(async () => {
      await c?.close();
      if (kind === "redis") await deletePrefix(keyPrefix);
    });

    test("kind and ping", async () => {
      expect(c.kind).toBe(kind);
      expect(await c.ping()).toBe(true);
    });

    describe("cache", () => {
      test("get of a missing key is undefined", async () => {
        expect(await c.cache.get(unique("missing"))).toBeUndefined();
      });

      test("set then get returns the value, including null and nested shapes", async () => {
        const key = unique("value");
        await c.cache.set(key, { title: "Dune", year: 2021, tags: ["sci-fi"], poster: null }, 5_000);
        expect(await c.cache.get<object>(key)).toEqual({ title: "Dune", year: 2021, tags: ["sci-fi"], poster: null });
        const nullKey = unique("null");
        await c.cache.set(nullKey, null, 5_000);
        expect(await c.cache.get(nullKey)).toBeNull();
      });

      test("stores a JSON copy, not the caller's object", async () => {
        const key = unique("copy");
        const value = { count: 1, at: new Date(0) };
        await c.cache.set(key, value, 5_000);
        value.count = 2;
        expect(await c.cache.get<object>(key)).toEqual({ count: 1, at: "1970-01-01T00:00:00.000Z" });
      });

      test("a value expires after its TTL", async () => {
        const key = unique("ttl");
        await c.cache.set(key, "soon gone", 40);
        expect(await c.cache.get<string>(key)).toBe("soon gone");
        await sleep(80);
        expect(await c.cache.get(key)).toBeUndefined();
      });

      test("set overwrites and restarts the TTL", async () => {
        const key = unique("overwrite");
        await c.cache.set(key, 1, 60);
        await sleep(30);
        await c.cache.set(key, 2, 200);
        await sleep(60);
        expect(await c.cache.get<number>(key)).toBe(2);
      });

      test("delete removes the value", async () => {
        const key = unique("delete");
        await c.cache.set(key, "x", 5_000);
        await c.cache.delete(key);
        expect(await c.cache.get(key)).toBeUndefined();
        await c.cache.delete(key);
      });

      test("wrap computes once for 10 concurrent callers, then serves from cache", async () => {
        const key = unique("wrap");
        let calls = 0;
        const compute = async () => {
          calls++;
          await sleep(30);
          return { calls };
        };
        const results = await Promise.all(Array.from({ length: 10 }, () => c.cache.wrap(key, 5_000, compute)));
        expect(calls).toBe(1);
        for (const result of results) expect(result).toEqual({ calls: 1 });
        expect(await c.cache.wrap(key, 5_000, compute)).toEqual({ calls: 1 });
        expect(calls).toBe(1);
        expect(await c.cache.get<object>(key)).toEqual({ calls: 1 });
      });

      test("wrap computes again once the value expired", async () => {
        const key = unique("wrap-expiry");
        let calls = 0;
        const compute = async () => ++calls;
        expect(await c.cache.wrap(key, 30, compute)).toBe(1);
        await sleep(60);
        expect(await c.cache.wrap(key, 30, compute)).toBe(2);
      });

      test("wrap does not cache a failed computation", async () => {
        const key = unique("wrap-failure");
        let calls = 0;
        const failing = async (): Promise<string> => {
          calls++;
          await sleep(10);
          throw new Error("upstream down");
        };
        const attempts = await Promise.allSettled([
          c.cache.wrap(key, 5_000, failing),
          c.cache.wrap(key, 5_000, failing),
        ]);
        expect(attempts.map((a) => a.status)).toEqual(["rejected", "rejected"]);
        expect(calls).toBe(1);
        expect(await c.cache.wrap(key, 5_000, async () => "recovered")).toBe("recovered");
      });
    });

    describe("pubsub", () => {
      test("delivers a message to every subscriber of the topic, asynchronously", async () => {
        const topic = unique("topic");
        const first: unknown[] = [];
        const second: unknown[] = [];
        const other: unknown[] = [];
        const offFirst = await c.pubsub.subscribe(topic, (m) => first.push(m));
        const offSecond = await c.pubsub.subscribe(topic, (m) => second.push(m));
        const offOther = await c.pubsub.subscribe(unique("other-topic"), (m) => other.push(m));
        const published = c.pubsub.publish(topic, { type: "download.done", id: 7 });
        expect(first).toEqual([]);
        await published;
        await eventually(() => first.length === 1 && second.length === 1, "both subscribers receive the message");
        expect(first).toEqual([{ type: "download.done", id: 7 }]);
        expect(second).toEqual([{ type: "download.done", id: 7 }]);
        expect(other).toEqual([]);
        await Promise.all([offFirst(), offSecond(), offOther()]);
      });

      test("unsubscribe stops delivery to that handler only, and is safe to call twice", async () => {
        const topic = unique("unsubscribe");
        const gone: unknown[] = [];
        const kept: unknown[] = [];
        const offGone = await c.pubsub.subscribe(topic, (m) => gone.push(m));
        const offKept = await c.pubsub.subscribe(topic, (m) => kept.push(m));
        await c.pubsub.publish(topic, 1);
        await eventually(() => gone.length === 1 && kept.length === 1, "first message arrives");
        await offGone();
        await offGone();
        await c.pubsub.publish(topic, 2);
        await c.pubsub.publish(topic, 3);
        // Messages on one topic arrive in order, so once 3 is in, 2 would have been delivered too.
        await eventually(() => kept.length === 3, "remaining subscriber receives later messages");
        expect(gone).toEqual([1]);
        expect(kept).toEqual([1, 2, 3]);
        await offKept();
        await c.pubsub.publish(topic, 4);
        await sleep(30);
        expect(kept).toEqual([1, 2, 3]);
      });

      test("a throwing handler does not stop other subscribers", async () => {
        const errors = spyOn(console, "error").mockImplementation(() => {});
        try {
          const topic = unique("throwing");
          const received: unknown[] = [];
          const offBad = await c.pubsub.subscribe(topic, () => {
            throw new Error("handler bug");
          });
          const offGood = await c.pubsub.subscribe(topic, (m) => received.push(m));
          await c.pubsub.publish(topic, "a");
          await c.pubsub.publish(topic, "b");
          await eventually(() => received.length === 2, "good subscriber still receives");
          expect(received).toEqual(["a", "b"]);
          expect(errors).toHaveBeenCalled();
          await Promise.all([offBad(), offGood()]);
        } finally {
          errors.mockRestore();
        }
      });

      test("a resubscribe right after the last unsubscribe keeps receiving", async () => {
        const topic = unique("resubscribe");
        const received: unknown[] = [];
        const off = await c.pubsub.subscribe(topic, () => {});
        const unsubscribing = off();
        const offAgain = await c.pubsub.subscribe(topic, (m) => received.push(m));
        await unsubscribing;
        await c.pubsub.publish(topic, "still here");
        await eventually(() => received.length === 1, "new subscriber receives");
        await offAgain();
      });

      test.skipIf(kind === "memory")("two instances on the same prefix see each other's messages", async () => {
        const other = await kinds[kind].create();
        try {
          const topic = unique("fan-out");
          const onOther: unknown[] = [];
          const onSelf: unknown[] = [];
          const offOther = await other.pubsub.subscribe(topic, (m) => onOther.push(m));
          const offSelf = await c.pubsub.subscribe(topic, (m) => onSelf.push(m));
          await c.pubsub.publish(topic, { from: "a" });
          await other.pubsub.publish(topic, { from: "b" });
          await eventually(() => onOther.length === 2 && onSelf.length === 2, "both replicas receive both messages");
          expect(onOther).toEqual([{ from: "a" }, { from: "b" }]);
          expect(onSelf).toEqual([{ from: "a" }, { from: "b" }]);
          await Promise.all([offOther(), offSelf()]);
        } finally {
          await other.close();
        }
      });
    });

    describe("locks", () => {
      test("a held lock is exclusive; other keys are independent", async () => {
        const key = unique("lock");
        const lock = await c.locks.tryAcquire(key, 5_000);
        expect(lock?.key).toBe(key);
        expect(await c.locks.tryAcquire(key, 5_000)).toBeUndefined();
        const otherLock = await c.locks.tryAcquire(unique("lock"), 5_000);
        expect(otherLock).toBeDefined();
        await lock?.release();
        await otherLock?.release();
      });

      test("release frees the lock and is safe to call twice", async () => {
        const key = unique("release");
        const lock = await c.locks.tryAcquire(key, 5_000);
        await lock?.release();
        await lock?.release();
        const next = await c.locks.tryAcquire(key, 5_000);
        expect(next).toBeDefined();
        await next?.release();
      });

      test("a lock expires so a dead holder cannot block forever", async () => {
        const key = unique("expire");
        expect(await c.locks.tryAcquire(key, 40)).toBeDefined();
        expect(await c.locks.tryAcquire(key, 40)).toBeUndefined();
        await sleep(80);
        const next = await c.locks.tryAcquire(key, 5_000);
        expect(next).toBeDefined();
        await next?.release();
      });

      test("extend keeps the lock past its first expiry", async () => {
        const key = unique("extend");
        const lock = await c.locks.tryAcquire(key, 60);
        await sleep(30);
        expect(await lock?.extend(300)).toBe(true);
        await sleep(70);
        expect(await c.locks.tryAcquire(key, 5_000)).toBeUndefined();
        await lock?.release();
      });

      test("an expired holder can neither extend nor release the new holder's lock", async () => {
        const key = unique("stale");
        const stale = await c.locks.tryAcquire(key, 30);
        await sleep(60);
        const current = await c.locks.tryAcquire(key, 5_000);
        expect(current).toBeDefined();
        expect(await stale?.extend(5_000)).toBe(false);
        await stale?.release();
        expect(await c.locks.tryAcquire(key, 5_000)).toBeUndefined();
        expect(await current?.extend(5_000)).toBe(true);
        await current?.release();
      });

      test("extend after expiry reports the lock as lost", async () => {
        const key = unique("lost");
        const lock = await c.locks.tryAcquire(key, 30);
        await sleep(60);
        expect(await lock?.extend(5_000)).toBe(false);
      });
    });

    describe("rate limiter", () => {
      test("allows limit hits, then refuses with retryAfterMs", async () => {
        const key = unique("rate");
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await c.rateLimiter.hit(key, 3, 1_000));
        expect(results.slice(0, 3)).toEqual([
          { allowed: true, remaining: 2, retryAfterMs: 0 },
          { allowed: true, remaining: 1, retryAfterMs: 0 },
          { allowed: true, remaining: 0, retryAfterMs: 0 },
        ]);
        const refused = results[3];
        expect(refused?.allowed).toBe(false);
        expect(refused?.remaining).toBe(0);
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(1_000);
      });

      test("the window slides: an old hit leaves while a recent one still counts", async () => {
        const key = unique("slide");
        expect((await c.rateLimiter.hit(key, 2, 200)).allowed).toBe(true);
        await sleep(100);
        expect((await c.rateLimiter.hit(key, 2, 200)).allowed).toBe(true);
        const refused = await c.rateLimiter.hit(key, 2, 200);
        expect(refused.allowed).toBe(false);
        // The first hit leaves about 100 ms from now; a fixed window would answer up to 200.
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(105);
        await sleep(refused.retryAfterMs + 20);
        const afterFirstLeft = await c.rateLimiter.hit(key, 2, 200);
        expect(afterFirstLeft).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
        expect((await c.rateLimiter.hit(key, 2, 200)).allowed).toBe(false);
      });

      test("refused hits do not extend the wait", async () => {
        const key = unique("refused");
        await c.rateLimiter.hit(key, 1, 100);
        for (let i = 0; i < 5; i++) expect((await c.rateLimiter.hit(key, 1, 100)).allowed).toBe(false);
        await sleep(120);
        expect((await c.rateLimiter.hit(key, 1, 100)).allowed).toBe(true);
      });

      test("reset clears the key", async () => {
        const key = unique("reset");
        await c.rateLimiter.hit(key, 2, 10_000);
        await c.rateLimiter.hit(key, 2, 10_000);
        expect((await c.rateLimiter.hit(key, 2, 10_000)).allowed).toBe(false);
        await c.rateLimiter.reset(key);
        expect(await c.rateLimiter.hit(key, 2, 10_000)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
      });

      test("keys are counted independently", async () => {
        const a = unique("rate-a");
        const b = unique("rate-b");
        await c.rateLimiter.hit(a, 1, 10_000);
        expect((await c.rateLimiter.hit(a, 1, 10_000)).allowed).toBe(false);
        expect((await c.rateLimiter.hit(b, 1, 10_000)).allowed).toBe(true);
      });

      test("refuses nonsensical limits with a coordination error", async () => {
        await expect(c.rateLimiter.hit(unique("bad"), 0, 1_000)).rejects.toThrow(/^coordination: /);
        await expect(c.rateLimiter.hit(unique("bad"), 1, 0)).rejects.toThrow(/^coordination: /);
      });
    });
  });
}

describe("coordination (memory only)", () => {
  test("the cache drops least recently used entries beyond its cap", async () => {
    const c = createMemoryCoordination({ maxCacheEntries: 3 });
    await c.cache.set("a", 1, 5_000);
    await c.cache.set("b", 2, 5_000);
    await c.cache.set("c", 3, 5_000);
    expect(await c.cache.get<number>("a")).toBe(1);
    await c.cache.set("d", 4, 5_000);
    expect(await c.cache.get("b")).toBeUndefined();
    expect(await c.cache.get<number>("a")).toBe(1);
    expect(await c.cache.get<number>("c")).toBe(3);
    expect(await c.cache.get<number>("d")).toBe(4);
  });
});

describe("coordination (memory only): expired entries", () => {
  test("are dropped on a timer, whether read again or not", async () => {
    const c = createMemoryCoordination({ cacheSweepMs: 20 });
    try {
      const heldBefore = () => (Bun.gc(true), process.memoryUsage().heapUsed);
      const empty = heldBefore();
      await c.cache.set("big", { text: "x".repeat(32 * 1024 * 1024) }, 1);
      const full = heldBefore();
      expect(full - empty).toBeGreaterThan(24 * 1024 * 1024);
      await Bun.sleep(200);
      expect(heldBefore() - empty).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await c.close();
    }
  });
});

describe("createCoordination", () => {
  test("without a Redis URL uses memory", async () => {
    const c = await createCoordination();
    expect(c.kind).toBe("memory");
    expect(await c.ping()).toBe(true);
    await c.close();
  });

  test.skipIf(!redisAvailable)("with a Redis URL uses Redis, and ping is false after close", async () => {
    const c = await createCoordination(redisUrl, { keyPrefix });
    expect(c.kind).toBe("redis");
    expect(await c.ping()).toBe(true);
    await c.close();
    expect(await c.ping()).toBe(false);
  });

  test("an unreachable Redis is refused quickly with a coordination error", async () => {
    const started = performance.now();
    const warnings = spyOn(console, "warn").mockImplementation(() => {});
    try {
      await expect(createRedisCoordination("redis://127.0.0.1:1")).rejects.toThrow(
        /^coordination: unable to connect to Redis at 127\.0\.0\.1:1/,
      );
    } finally {
      warnings.mockRestore();
    }
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
