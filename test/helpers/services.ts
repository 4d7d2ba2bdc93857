// Reach the real PostgreSQL and Redis the suites run against; suites that need one skip visibly when it is absent.
import { randomBytes } from "node:crypto";

export const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_TEST_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function probe(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

function hostPort(url: string, fallbackPort: number): [string, number] {
  const u = new URL(url);
  return [u.hostname, Number(u.port || fallbackPort)];
}

export const postgresAvailable = await probe(...hostPort(PG_ADMIN_URL, 5432));
export const redisAvailable = await probe(...hostPort(REDIS_TEST_URL, 6379));

if (!postgresAvailable)
  console.warn(`tests: PostgreSQL not reachable at ${PG_ADMIN_URL}; PostgreSQL suites are SKIPPED`);
if (!redisAvailable) console.warn(`tests: Redis not reachable at ${REDIS_TEST_URL}; Redis suites are SKIPPED`);

/** Create a throwaway PostgreSQL database; drop() removes it (ending its connections first). */
export async function createTempPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: postgres } = await import("postgres");
  const name = `medianest_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** A unique Redis key prefix for one test run. */
export function testRedisPrefix(): string {
  return `medianest-test:${randomBytes(6).toString("hex")}:`;
}

/** Delete every Redis key under a prefix. */
export async function cleanRedisPrefix(prefix: string): Promise<void> {
  const { default: Redis } = await import("ioredis");
  const r = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== "0");
  await r.quit();
}
