// A realistic MediaNest database for benchmarks and soak runs: bun test/bench/seed.ts <data dir> [--scale=N]
// [--database-url=postgres://…] [--integrations-at=http://host:port]
//
// 50 users (one admin), a session for each, thousands of notifications, 10,000 media requests in every status,
// thousands of downloads (videos and playlists with their items), 30 days of status checks every 5 minutes for ten
// services (MediaNest's four and six Uptime Kuma monitors). Rows go in through the project's own schema
// (src/db/schema/) with drizzle's bulk inserts, in batches, on SQLite or PostgreSQL alike; settings and the
// administrator's integrations through the project's own services. `--scale` multiplies every row count except the
// users (2: twice the rows on the same pages). The session cookies are written to <data dir>/seed-cookies.json
// and returned by seedDatabase(), so a benchmark can sign in as any seeded user.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { createSecretBox, loadMasterKey, type SecretBox } from "../../src/config/secret-box";
import { type Database, openPostgres, openSqlite, sqliteFile } from "../../src/db/database";
import { migrate } from "../../src/db/migrate";
import { hashToken } from "../../src/services/sessions";
import { DEFAULT_PERMISSIONS } from "../../src/services/permissions";
import { saveKumaIntegration, savePlexIntegration, saveSeerrIntegration } from "../../src/services/integrations";

export interface SeedOptions {
  /** Multiplies every row count but the users'. */
  scale?: number;
  users?: number;
  /** "Now" for the seeded history (default: the current time). */
  now?: Date;
  /**
   * Connect Plex, Seerr and Uptime Kuma at this base URL (default: none connected). A closed port makes every
   * integration read as down; pages then render from the stored history, as during an outage.
   */
  integrationsAt?: string;
  /** Needed with integrationsAt: secrets are stored encrypted with the server's key. */
  secretBox?: SecretBox;
}

export interface SeededUser {
  id: string;
  username: string;
  role: "admin" | "user";
  /** The value of the session cookie (mn_session) of this user's session. */
  cookie: string;
}

export interface SeedResult {
  admin: SeededUser;
  /** The member with the most rows (the first non-admin): the signed-in member of a benchmark. */
  member: SeededUser;
  users: SeededUser[];
  counts: Record<string, number>;
}

export const SEED_COOKIE_FILE = "seed-cookies.json";

const DAY = 86_400_000;
const MEDIA_STATUSES = [
  "pending",
  "approved",
  "declined",
  "processing",
  "partially_available",
  "available",
  "failed",
  "deleted",
  "cancelled",
  "unknown",
] as const;
const DOWNLOAD_STATUSES = [
  "queued",
  "awaiting_approval",
  "downloading",
  "processing",
  "completed",
  "failed",
  "cancelled",
] as const;
const CHECK_STATUSES = ["up", "up", "up", "up", "up", "up", "up", "up", "degraded", "down"] as const;
const NOTIFICATION_KINDS = ["request-approved", "request-available", "download-completed", "announcement"] as const;
const SERVICES = ["plex", "seerr", "kuma", "ytdlp", "kuma:1", "kuma:2", "kuma:3", "kuma:4", "kuma:5", "kuma:6"];
const TITLES = ["The Long Road", "Northern Lights", "A Quiet Harbour", "Glass Cities", "Paper Moons", "Iron Orchard"];
const BATCH = 500;

/** A small deterministic generator, so two seeds of the same scale hold the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function insertAll(database: Database, table: unknown, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    // biome-ignore lint/suspicious/noExplicitAny: one helper for every table of either dialect
    await database.db.insert(table as any).values(rows.slice(i, i + BATCH) as any);
  }
}

/** Fill a migrated, empty database. */
export async function seedDatabase(database: Database, opts: SeedOptions = {}): Promise<SeedResult> {
  const scale = opts.scale ?? 1;
  const now = (opts.now ?? new Date()).getTime();
  const random = rng(20261202 + scale);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const t = database.tables;
  const userCount = opts.users ?? 50;
  const counts: Record<string, number> = {};
  const sqlite = database.sqlite;
  sqlite?.exec("BEGIN");
  try {
    // Users and a session each.
    const users: SeededUser[] = [];
    const userRows: Record<string, unknown>[] = [];
    const sessionRows: Record<string, unknown>[] = [];
    for (let i = 0; i < userCount; i++) {
      const role = i === 0 ? "admin" : "user";
      const id = crypto.randomUUID();
      const username = i === 0 ? "admin" : `member${i}`;
      const cookie = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
      users.push({ id, username, role, cookie });
      const created = new Date(now - 200 * DAY + i * DAY);
      userRows.push({
        id,
        username,
        displayName: i === 0 ? "Administrator" : `Member ${i}`,
        email: `${username}@example.test`,
        role,
        status: "active",
        permissions: [...DEFAULT_PERMISSIONS],
        createdAt: created,
        updatedAt: created,
        lastLoginAt: new Date(now - DAY),
      });
      sessionRows.push({
        idHash: hashToken(cookie),
        userId: id,
        csrfToken: Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url"),
        userAgent: "Mozilla/5.0 (bench)",
        ip: "127.0.0.1",
        createdAt: new Date(now - DAY),
        lastSeenAt: new Date(now),
        expiresAt: new Date(now + 30 * DAY),
      });
    }
    await insertAll(database, t.users, userRows);
    await insertAll(database, t.sessions, sessionRows);
    counts.users = userRows.length;
    counts.sessions = sessionRows.length;
    // A user of the seed: the first member gets a fifth of each user's rows, the rest spread over everyone.
    const owner = (): string => (random() < 0.2 ? users[1]!.id : pick(users).id);

    // Notifications, a third of them unread.
    const notificationRows: Record<string, unknown>[] = [];
    for (let i = 0; i < 5000 * scale; i++) {
      const at = now - Math.floor(random() * 60 * DAY);
      notificationRows.push({
        id: crypto.randomUUID(),
        userId: owner(),
        kind: pick(NOTIFICATION_KINDS),
        title: `${pick(TITLES)} is available`,
        body: "You can watch it in Plex now.",
        link: i % 3 === 0 ? "/requests" : null,
        createdAt: new Date(at),
        readAt: i % 3 === 1 ? null : new Date(at + 3_600_000),
      });
    }
    await insertAll(database, t.notifications, notificationRows);
    counts.notifications = notificationRows.length;

    // Media requests in every status.
    const seerrServer = createHash("sha256")
      .update(opts.integrationsAt ? `${opts.integrationsAt}/seerr` : "http://seerr.invalid")
      .digest("base64url")
      .slice(0, 12);
    const requestRows: Record<string, unknown>[] = [];
    for (let i = 0; i < 10_000 * scale; i++) {
      const tv = i % 3 === 0;
      const at = now - Math.floor(random() * 180 * DAY);
      requestRows.push({
        id: crypto.randomUUID(),
        userId: owner(),
        seerrServer,
        seerrRequestId: i + 1,
        mediaType: tv ? "tv" : "movie",
        tmdbId: 1000 + i,
        title: `${pick(TITLES)} ${i + 1}`,
        year: 1980 + (i % 45),
        posterPath: `/poster${i % 97}.jpg`,
        seasons: tv ? [1, 2] : [],
        is4k: i % 11 === 0,
        status: MEDIA_STATUSES[i % MEDIA_STATUSES.length],
        seerrStatus: (i % 5) + 1,
        mediaStatus: (i % 6) + 1,
        declineReason: MEDIA_STATUSES[i % MEDIA_STATUSES.length] === "declined" ? "Not on our list" : null,
        source: i % 7 === 0 ? "seerr" : "medianest",
        createdAt: new Date(at),
        updatedAt: new Date(at + DAY),
      });
    }
    await insertAll(database, t.mediaRequests, requestRows);
    counts.media_requests = requestRows.length;

    // Downloads: one in five a playlist of five videos; items share their download's status.
    const downloadRows: Record<string, unknown>[] = [];
    const itemRows: Record<string, unknown>[] = [];
    for (let i = 0; i < 3000 * scale; i++) {
      const id = crypto.randomUUID();
      const userId = owner();
      const playlist = i % 5 === 0;
      const status = DOWNLOAD_STATUSES[i % DOWNLOAD_STATUSES.length]!;
      const at = now - Math.floor(random() * 90 * DAY);
      const done = status === "completed" || status === "failed" || status === "cancelled";
      const itemCount = playlist ? 5 : 1;
      downloadRows.push({
        id,
        userId,
        url: `https://media.example.test/${playlist ? "playlist" : "watch"}/${i}`,
        kind: playlist ? "playlist" : "video",
        remoteId: `v${i}`,
        title: `${pick(TITLES)} (clip ${i + 1})`,
        channel: "Example Channel",
        thumbnailUrl: null,
        quality: "1080p",
        sectionKey: "3",
        folder: "Example Channel",
        status,
        itemCount,
        estimatedBytes: 50_000_000 * itemCount,
        error: status === "failed" ? "HTTP Error 403: Forbidden" : null,
        createdAt: new Date(at),
        updatedAt: new Date(at + 60_000),
        finishedAt: done ? new Date(at + 120_000) : null,
      });
      for (let p = 0; p < itemCount; p++) {
        itemRows.push({
          id: crypto.randomUUID(),
          downloadId: id,
          userId,
          position: p,
          remoteId: `v${i}-${p}`,
          title: `${pick(TITLES)} part ${p + 1}`,
          url: `https://media.example.test/watch/${i}-${p}`,
          playlistIndex: playlist ? p + 1 : null,
          status,
          attempts: status === "queued" || status === "awaiting_approval" ? 0 : 1,
          // Far in the future for unfinished work: a benchmark's server must not start downloading it.
          nextAttemptAt: new Date(now + 3650 * DAY),
          claimedAt: status === "queued" || status === "awaiting_approval" ? null : new Date(at + 1000),
          finishedAt: done ? new Date(at + 120_000) : null,
          filePath: status === "completed" ? `/media/Example Channel/${i}-${p}.mp4` : null,
          bytes: status === "completed" ? 50_000_000 : null,
          error: status === "failed" ? "HTTP Error 403: Forbidden" : null,
          createdAt: new Date(at),
        });
      }
    }
    await insertAll(database, t.downloads, downloadRows);
    await insertAll(database, t.downloadItems, itemRows);
    counts.downloads = downloadRows.length;
    counts.download_items = itemRows.length;

    // 30 days of checks every 5 minutes for ten services (more often with a larger scale).
    const checkRows: Record<string, unknown>[] = [];
    const step = 300_000 / scale;
    for (const service of SERVICES) {
      for (let at = now - 30 * DAY; at < now; at += step) {
        const status = pick(CHECK_STATUSES);
        checkRows.push({
          id: crypto.randomUUID(),
          service,
          checkedAt: new Date(Math.floor(at)),
          status,
          responseMs: status === "down" ? null : 20 + Math.floor(random() * 200),
          message: status === "down" ? "connect ECONNREFUSED" : null,
        });
      }
    }
    await insertAll(database, t.serviceChecks, checkRows);
    counts.service_checks = checkRows.length;

    if (opts.integrationsAt) {
      if (!opts.secretBox) throw new Error("seed: integrationsAt needs the server's secretBox");
      const deps = { database, secretBox: opts.secretBox };
      await savePlexIntegration(deps, {
        url: `${opts.integrationsAt}/plex`,
        token: "seed-plex-token",
        machineIdentifier: "seed-machine",
        name: "Seed Plex",
      });
      await saveSeerrIntegration(deps, { url: `${opts.integrationsAt}/seerr`, apiKey: "seed-seerr-key" });
      await saveKumaIntegration(deps, { url: `${opts.integrationsAt}/kuma`, slug: "home" });
    }
    sqlite?.exec("COMMIT");
    sqlite?.exec("ANALYZE");
    return { admin: users[0]!, member: users[1]!, users, counts };
  } catch (err) {
    sqlite?.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Create and seed the database of a data directory (SQLite), or of databaseUrl (PostgreSQL, empty), migrating it
 * first, with the data directory's key for secrets; writes the session cookies to <dataDir>/seed-cookies.json.
 */
export async function seedDataDir(
  dataDir: string,
  opts: Omit<SeedOptions, "secretBox"> & { databaseUrl?: string } = {},
): Promise<SeedResult> {
  const database = opts.databaseUrl
    ? await openPostgres(opts.databaseUrl, { timeoutMs: 5000, max: 4 })
    : openSqlite(sqliteFile(dataDir));
  try {
    await migrate(database);
    const secretBox = createSecretBox(loadMasterKey(dataDir));
    const result = await seedDatabase(database, { ...opts, secretBox });
    writeFileSync(join(dataDir, SEED_COOKIE_FILE), JSON.stringify(result.users, null, 2), { mode: 0o600 });
    return result;
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  const arg = (name: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) || undefined;
  const dataDir = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (!dataDir) {
    console.error(
      "usage: bun test/bench/seed.ts <data dir> [--scale=N] [--database-url=postgres://…] [--integrations-at=URL]",
    );
    process.exit(2);
  }
  const t0 = performance.now();
  const result = await seedDataDir(dataDir, {
    scale: Number(arg("scale") ?? 1),
    databaseUrl: arg("database-url"),
    integrationsAt: arg("integrations-at"),
  });
  console.log(
    `seed: ${Object.entries(result.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s; cookies in ${join(dataDir, SEED_COOKIE_FILE)}`,
  );
}
