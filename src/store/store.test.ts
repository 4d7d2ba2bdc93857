// The store written once, run against SQLite and a real PostgreSQL: both must answer the same.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { postgresAvailable } from "../../test/helpers/services";
import { createTestApp, givenUser, type Dialect, type TestApp } from "../../test/helpers/test-app";
import type { Database } from "../db/database";
import {
  deleteApiToken,
  deleteApiTokensByUser,
  findApiTokenByHash,
  insertApiToken,
  listApiTokensByUser,
  touchApiToken,
  type ApiToken,
} from "./api-tokens";
import { insertAuditEntry, listAuditEntries } from "./audit";
import {
  deleteExpiredSessions,
  deleteSession,
  deleteSessionsByUser,
  findSessionByHash,
  findSessionWithUser,
  insertSession,
  listSessionsByUser,
  touchSession,
  type NewSession,
} from "./sessions";
import { listJobRuns, upsertJobRun } from "./job-runs";
import { inTransaction } from "../db/transaction";
import { decideDownload, findDownloadById, insertDownload, listDownloadItems, type NewDownloadItem } from "./downloads";
import { insertSubscription, seenRemoteIds } from "./subscriptions";
import {
  deleteSetting,
  findSetting,
  insertSettingIfAbsent,
  listSettings,
  settingExists,
  upsertSetting,
} from "./settings";
import {
  adminExists,
  countActiveUsers,
  findUserById,
  findUserByOidc,
  findUserByPlexId,
  findUserByUsername,
  insertUser,
  listActiveUserIds,
  listUsers,
  updateUser,
  type NewUser,
} from "./users";

const MS = (iso: string) => new Date(iso);
const uniq = () => randomBytes(4).toString("hex");

async function rawRows(database: Database, query: string, param: string): Promise<Record<string, unknown>[]> {
  if (database.sqlite) return database.sqlite.query(query.replace("$1", "?")).all(param) as Record<string, unknown>[];
  return [...(await database.pg!.unsafe(query, [param]))];
}

function newUser(patch: Partial<NewUser> & { username: string }): NewUser {
  const at = MS("2024-02-29T23:59:59.987Z");
  return {
    id: crypto.randomUUID(),
    displayName: patch.username,
    role: "user",
    status: "active",
    permissions: ["request"],
    createdAt: at,
    updatedAt: at,
    ...patch,
  };
}

for (const dialect of ["sqlite", "postgres"] as Dialect[]) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable)(`store on ${dialect}`, () => {
    let t: TestApp;
    let database: Database;
    beforeAll(async () => {
      t = await createTestApp({ dialect });
      database = t.deps.database;
    });
    afterAll(async () => {
      await t?.close();
    });

    describe("users", () => {
      test("adminExists counts only active admins", async () => {
        expect(await adminExists(database)).toBe(false);
        await insertUser(database, newUser({ username: `gone-admin-${uniq()}`, role: "admin", status: "disabled" }));
        expect(await adminExists(database)).toBe(false);
        await insertUser(database, newUser({ username: `admin-${uniq()}`, role: "admin" }));
        expect(await adminExists(database)).toBe(true);
      });

      test("countActiveUsers and listActiveUserIds leave out disabled and deleted users", async () => {
        const [users, admins, ids] = [
          await countActiveUsers(database),
          await countActiveUsers(database, "admin"),
          await listActiveUserIds(database),
        ];
        expect(ids.length).toBe(users);
        const member = await insertUser(database, newUser({ username: `member-${uniq()}` }));
        const admin = await insertUser(database, newUser({ username: `admin-${uniq()}`, role: "admin" }));
        const off = await insertUser(
          database,
          newUser({ username: `off-${uniq()}`, role: "admin", status: "disabled" }),
        );
        const gone = await insertUser(database, newUser({ username: `gone-${uniq()}`, status: "deleted" }));
        expect(await countActiveUsers(database)).toBe(users + 2);
        expect(await countActiveUsers(database, "admin")).toBe(admins + 1);
        expect(await countActiveUsers(database, "user")).toBe(users - admins + 1);
        const now = await listActiveUserIds(database);
        expect(now).toEqual(expect.arrayContaining([...ids, member.id, admin.id]));
        expect(now).toHaveLength(users + 2);
        expect(now).not.toContain(off.id);
        expect(now).not.toContain(gone.id);
      });

      test("insert returns the row with dates, numbers, nulls and JSON as they went in", async () => {
        const created = MS("2023-11-14T22:13:20.123Z");
        const lastLogin = MS("2024-06-01T08:00:00.001Z");
        const user = newUser({
          username: `alice-${uniq()}`,
          displayName: "Alice Älvsdóttir",
          email: "alice@example.org",
          plexId: 9_876_543_210,
          storageCapBytes: 5 * 1024 ** 4,
          requestsPerWeek: 7,
          permissions: ["request", "download", "request_4k"],
          createdAt: created,
          updatedAt: created,
          lastLoginAt: lastLogin,
        });

        const row = await insertUser(database, user);

        expect(row).toEqual({
          avatarUrl: null,
          passwordHash: null,
          plexUuid: null,
          plexTokenEnc: null,
          plexTokenServer: null,
          plexInvite: null,
          oidcIssuer: null,
          oidcSubject: null,
          downloadsPerHour: null,
          downloadsPerDay: null,
          requestsPerDay: null,
          mutedNotifications: null,
          ...user,
        } as typeof row);
        const found = await findUserById(database, user.id);
        expect(found).toEqual(row);
        expect(found!.createdAt).toBeInstanceOf(Date);
        expect(found!.createdAt.getTime()).toBe(created.getTime());
        expect(found!.lastLoginAt!.getTime()).toBe(lastLogin.getTime());
        expect(found!.permissions).toEqual(["request", "download", "request_4k"]);
        expect(typeof found!.plexId).toBe("number");
        expect(found!.storageCapBytes).toBe(5 * 1024 ** 4);
      });

      test("finds by id, username (any case), Plex id and OIDC identity; undefined when absent", async () => {
        const name = `bob-${uniq()}`;
        const user = await insertUser(
          database,
          newUser({ username: name, plexId: 424242, oidcIssuer: "https://id.example", oidcSubject: "sub-1" }),
        );

        expect((await findUserById(database, user.id))?.username).toBe(name);
        expect((await findUserByUsername(database, name.toUpperCase()))?.id).toBe(user.id);
        expect((await findUserByPlexId(database, 424242))?.id).toBe(user.id);
        expect((await findUserByOidc(database, "https://id.example", "sub-1"))?.id).toBe(user.id);

        expect(await findUserById(database, crypto.randomUUID())).toBeUndefined();
        expect(await findUserByUsername(database, `nobody-${uniq()}`)).toBeUndefined();
        expect(await findUserByPlexId(database, 1)).toBeUndefined();
        expect(await findUserByOidc(database, "https://id.example", "sub-2")).toBeUndefined();
        expect(await findUserByOidc(database, "https://other.example", "sub-1")).toBeUndefined();
      });

      test("a taken username, Plex id or OIDC identity is refused with context, and the first row is untouched", async () => {
        const name = `carol-${uniq()}`;
        const first = await insertUser(
          database,
          newUser({ username: name, plexId: 777, oidcIssuer: "https://id.example", oidcSubject: "carol" }),
        );

        const dupName = insertUser(database, newUser({ username: name, passwordHash: "argon2-SECRET-HASH" }));
        expect(dupName).rejects.toThrow(`store: unable to insert user ${name}`);
        const err = (await dupName.catch((e: Error) => e)) as Error;
        expect(err.message).toMatch(/unique/i);
        // The message is the database's reason, not the SQL with every parameter in it.
        expect(err.message).not.toContain("argon2-SECRET-HASH");
        expect(err.message).not.toContain("insert into");

        expect(insertUser(database, newUser({ username: `other-${uniq()}`, plexId: 777 }))).rejects.toThrow(
          "store: unable to insert user",
        );
        expect(
          insertUser(
            database,
            newUser({ username: `other-${uniq()}`, oidcIssuer: "https://id.example", oidcSubject: "carol" }),
          ),
        ).rejects.toThrow("store: unable to insert user");
        // NULLs never collide: many users without Plex or OIDC are fine.
        await insertUser(database, newUser({ username: `nulls1-${uniq()}` }));
        await insertUser(database, newUser({ username: `nulls2-${uniq()}` }));

        expect(await findUserById(database, first.id)).toEqual(first);
      });

      test("listUsers filters by search, role and status, pages by username and counts the total", async () => {
        const tag = `zz${uniq()}`;
        const made = [];
        for (const [i, role, status] of [
          [0, "user", "active"],
          [1, "admin", "active"],
          [2, "user", "disabled"],
          [3, "user", "active"],
          [4, "user", "active"],
        ] as const) {
          made.push(await insertUser(database, newUser({ username: `${tag}-${i}`, role, status })));
        }
        const names = (r: { users: { username: string }[] }) => r.users.map((u) => u.username);

        const all = await listUsers(database, { search: tag });
        expect(names(all)).toEqual(made.map((u) => u.username));
        expect(all.total).toBe(5);

        const page = await listUsers(database, { search: tag, limit: 2, offset: 2 });
        expect(names(page)).toEqual([`${tag}-2`, `${tag}-3`]);
        expect(page.total).toBe(5);
        const last = await listUsers(database, { search: tag, limit: 2, offset: 4 });
        expect(names(last)).toEqual([`${tag}-4`]);
        expect((await listUsers(database, { search: tag, limit: 2, offset: 10 })).users).toEqual([]);

        expect(names(await listUsers(database, { search: tag, role: "admin" }))).toEqual([`${tag}-1`]);
        const active = await listUsers(database, { search: tag, role: "user", status: "active" });
        expect(names(active)).toEqual([`${tag}-0`, `${tag}-3`, `${tag}-4`]);
        expect(active.total).toBe(3);
        expect((await listUsers(database, { search: tag, status: "deleted" })).total).toBe(0);
      });

      test("search matches display name and email regardless of case, and treats % and _ literally", async () => {
        const tag = uniq();
        const a = await insertUser(database, newUser({ username: `x${tag}a_b`, displayName: `Dana ${tag} Scully` }));
        const b = await insertUser(database, newUser({ username: `x${tag}acb`, email: `FOX.${tag}@Example.org` }));
        const c = await insertUser(database, newUser({ username: `x${tag}100%` }));
        const ids = async (search: string) => (await listUsers(database, { search })).users.map((u) => u.id).sort();

        expect(await ids(`${tag}a_b`)).toEqual([a.id]);
        expect(await ids(`${tag}100%`)).toEqual([c.id]);
        expect(await ids(`DANA ${tag}`)).toEqual([a.id]);
        expect(await ids(`fox.${tag}@example`)).toEqual([b.id]);
        expect(await ids(`X${tag}`)).toEqual([a.id, b.id, c.id].sort());
        expect(await ids(`${tag}\\`)).toEqual([]);
      });

      test("updateUser changes the given columns, bumps updatedAt, and returns undefined for an unknown id", async () => {
        const user = await insertUser(database, newUser({ username: `erin-${uniq()}` }));

        const updated = await updateUser(database, user.id, {
          displayName: "Erin B.",
          permissions: ["download"],
          requestsPerWeek: null,
          role: "admin",
        });

        expect(updated).toEqual({
          ...user,
          displayName: "Erin B.",
          permissions: ["download"],
          role: "admin",
          updatedAt: updated!.updatedAt,
        });
        expect(updated!.updatedAt.getTime()).toBeGreaterThan(user.updatedAt.getTime());
        expect(await findUserById(database, user.id)).toEqual(updated);
        expect(await updateUser(database, crypto.randomUUID(), { displayName: "ghost" })).toBeUndefined();
      });
    });

    describe("sessions", () => {
      function newSession(userId: string, patch: Partial<NewSession> = {}): NewSession {
        return {
          idHash: randomBytes(32).toString("hex"),
          userId,
          csrfToken: randomBytes(24).toString("base64url"),
          userAgent: "Firefox",
          ip: "192.0.2.1",
          createdAt: MS("2030-01-01T00:00:00.111Z"),
          lastSeenAt: MS("2030-01-01T00:00:00.222Z"),
          expiresAt: MS("2030-04-01T00:00:00.333Z"),
          ...patch,
        };
      }

      test("insert and find by hash, with dates to the millisecond; undefined when absent", async () => {
        const user = await givenUser(t.deps);
        const s = newSession(user.id);
        await insertSession(database, s);

        const found = await findSessionByHash(database, s.idHash);
        expect(found).toEqual(s as typeof found);
        expect(found!.expiresAt).toBeInstanceOf(Date);
        expect(found!.expiresAt.getTime()).toBe(s.expiresAt.getTime());
        expect(await findSessionByHash(database, "0".repeat(64))).toBeUndefined();
      });

      test("a session and its user in one lookup, each whole; a user's change is seen by the next one", async () => {
        const user = await givenUser(t.deps, { displayName: "One lookup" });
        const s = newSession(user.id);
        await insertSession(database, s);
        const found = await findSessionWithUser(database, s.idHash);
        expect(found?.session).toEqual(s as NonNullable<typeof found>["session"]);
        expect(found?.user).toEqual(user);
        await updateUser(database, user.id, { displayName: "Renamed" });
        expect((await findSessionWithUser(database, s.idHash))?.user.displayName).toBe("Renamed");
        expect(await findSessionWithUser(database, "0".repeat(64))).toBeUndefined();
      });

      test("a session for an unknown user is refused (foreign key), and deleting a user removes their sessions", async () => {
        expect(insertSession(database, newSession(crypto.randomUUID()))).rejects.toThrow(
          "store: unable to insert session",
        );
        const user = await givenUser(t.deps);
        const s = newSession(user.id);
        await insertSession(database, s);

        await database.db.delete(database.tables.users).where(eq(database.tables.users.id, user.id));

        expect(await findSessionByHash(database, s.idHash)).toBeUndefined();
      });

      test("touch moves lastSeenAt; list is most recently seen first", async () => {
        const user = await givenUser(t.deps);
        const older = newSession(user.id, { lastSeenAt: MS("2030-01-02T00:00:00.000Z") });
        const newer = newSession(user.id, { lastSeenAt: MS("2030-01-03T00:00:00.000Z") });
        await insertSession(database, older);
        await insertSession(database, newer);
        expect((await listSessionsByUser(database, user.id)).map((s) => s.idHash)).toEqual([
          newer.idHash,
          older.idHash,
        ]);

        await touchSession(database, older.idHash, MS("2030-01-04T12:34:56.789Z"));

        expect((await findSessionByHash(database, older.idHash))!.lastSeenAt.getTime()).toBe(
          MS("2030-01-04T12:34:56.789Z").getTime(),
        );
        expect((await listSessionsByUser(database, user.id)).map((s) => s.idHash)).toEqual([
          older.idHash,
          newer.idHash,
        ]);
        expect(await listSessionsByUser(database, crypto.randomUUID())).toEqual([]);
      });

      test("deleteSession scoped by user ends only the owner's session", async () => {
        const owner = await givenUser(t.deps);
        const other = await givenUser(t.deps);
        const s = newSession(owner.id);
        await insertSession(database, s);

        expect(await deleteSession(database, s.idHash, other.id)).toBe(false);
        expect(await findSessionByHash(database, s.idHash)).toBeDefined();
        expect(await deleteSession(database, s.idHash, owner.id)).toBe(true);
        expect(await findSessionByHash(database, s.idHash)).toBeUndefined();
        expect(await deleteSession(database, s.idHash, owner.id)).toBe(false);

        const unscoped = newSession(owner.id);
        await insertSession(database, unscoped);
        expect(await deleteSession(database, unscoped.idHash)).toBe(true);
      });

      test("deleteSessionsByUser keeps the one asked for and leaves other users alone", async () => {
        const user = await givenUser(t.deps);
        const other = await givenUser(t.deps);
        const mine = [newSession(user.id), newSession(user.id), newSession(user.id)];
        for (const s of mine) await insertSession(database, s);
        const theirs = newSession(other.id);
        await insertSession(database, theirs);

        expect(await deleteSessionsByUser(database, user.id, mine[0]!.idHash)).toBe(2);
        expect((await listSessionsByUser(database, user.id)).map((s) => s.idHash)).toEqual([mine[0]!.idHash]);
        expect(await findSessionByHash(database, theirs.idHash)).toBeDefined();

        expect(await deleteSessionsByUser(database, user.id)).toBe(1);
        expect(await listSessionsByUser(database, user.id)).toEqual([]);
        expect(await findSessionByHash(database, theirs.idHash)).toBeDefined();
      });

      test("deleteExpiredSessions removes sessions past their expiry or idle too long, and nothing else", async () => {
        const user = await givenUser(t.deps);
        const now = MS("2031-06-01T00:00:00.000Z");
        const idleBefore = MS("2031-05-01T00:00:00.000Z");
        const expired = newSession(user.id, {
          lastSeenAt: MS("2031-05-31T00:00:00.000Z"),
          expiresAt: MS("2031-05-31T23:59:59.999Z"),
        });
        const idle = newSession(user.id, {
          lastSeenAt: MS("2031-04-30T23:59:59.999Z"),
          expiresAt: MS("2031-09-01T00:00:00.000Z"),
        });
        const live = newSession(user.id, {
          lastSeenAt: MS("2031-05-01T00:00:00.000Z"),
          expiresAt: MS("2031-06-01T00:00:00.000Z"),
        });
        for (const s of [expired, idle, live]) await insertSession(database, s);
        // Other tests' sessions were seen in 2030, so use a window that only this test's rows fall into.
        const before = (await listSessionsByUser(database, user.id)).length;

        const removed = await deleteExpiredSessions(database, now, idleBefore);

        expect(before).toBe(3);
        expect((await listSessionsByUser(database, user.id)).map((s) => s.idHash)).toEqual([live.idHash]);
        expect(removed).toBeGreaterThanOrEqual(2);
      });
    });

    describe("settings", () => {
      test("a secret is stored encrypted and read back decrypted", async () => {
        const box = t.deps.secretBox;
        const key = `seerr.api_key.${uniq()}`;
        const plain = `sk-${randomBytes(12).toString("hex")}`;

        await upsertSetting(database, box, key, plain, true);

        const [raw] = await rawRows(database, "SELECT value, secret FROM settings WHERE key = $1", key);
        expect(raw!.value).not.toBe(plain);
        expect(String(raw!.value)).not.toContain(plain);
        expect(String(raw!.value)).toStartWith("v1:");
        expect(box.decrypt(String(raw!.value))).toBe(plain);
        expect(await findSetting(database, box, key)).toBe(plain);
        const [row] = await database.db
          .select()
          .from(database.tables.settings)
          .where(eq(database.tables.settings.key, key));
        expect(row!.secret).toBe(true);
        expect(row!.updatedAt).toBeInstanceOf(Date);
      });

      test("upsert replaces the value and the secret flag", async () => {
        const box = t.deps.secretBox;
        const key = `plex.url.${uniq()}`;
        await upsertSetting(database, box, key, "http://old:32400");
        const [first] = await database.db
          .select()
          .from(database.tables.settings)
          .where(eq(database.tables.settings.key, key));
        expect(first!.secret).toBe(false);
        expect(first!.value).toBe("http://old:32400");

        await upsertSetting(database, box, key, "hunter2", true);
        expect(await findSetting(database, box, key)).toBe("hunter2");
        const [second] = await rawRows(database, "SELECT value FROM settings WHERE key = $1", key);
        expect(second!.value).not.toBe("hunter2");

        await upsertSetting(database, box, key, "http://new:32400", false);
        expect(await findSetting(database, box, key)).toBe("http://new:32400");
        const rows = await database.db
          .select()
          .from(database.tables.settings)
          .where(eq(database.tables.settings.key, key));
        expect(rows.length).toBe(1);
        expect(rows[0]!.secret).toBe(false);
      });

      test("listSettings returns one prefix decrypted; delete removes; unknown keys are undefined", async () => {
        const box = t.deps.secretBox;
        const prefix = `kuma.${uniq()}.`;
        await upsertSetting(database, box, `${prefix}url`, "http://kuma:3001");
        await upsertSetting(database, box, `${prefix}password`, "pässwörd 🔑", true);
        await upsertSetting(database, box, `other.${prefix}url`, "nope");

        expect(await listSettings(database, box, prefix)).toEqual(
          new Map([
            [`${prefix}url`, "http://kuma:3001"],
            [`${prefix}password`, "pässwörd 🔑"],
          ]),
        );

        await deleteSetting(database, `${prefix}password`);
        expect(await findSetting(database, box, `${prefix}password`)).toBeUndefined();
        expect([...(await listSettings(database, box, prefix)).keys()]).toEqual([`${prefix}url`]);
      });

      test("insertSettingIfAbsent: of callers racing for one key exactly one stores its value; settingExists", async () => {
        const key = `claim.${uniq()}`;
        expect(await settingExists(database, key)).toBe(false);
        const won = await Promise.all(["a", "b", "c", "d"].map((v) => insertSettingIfAbsent(database, key, v)));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(await findSetting(database, t.deps.secretBox, key)).toBe(["a", "b", "c", "d"][won.indexOf(true)]);
        expect(await settingExists(database, key)).toBe(true);
        expect(await insertSettingIfAbsent(database, key, "later")).toBe(false);
        await deleteSetting(database, key);
        expect(await settingExists(database, key)).toBe(false);
      });
    });

    describe("job runs", () => {
      test("upsertJobRun records a run and later updates only the fields it is given", async () => {
        const jobId = `job-${uniq()}`;
        const started = MS("2024-05-05T05:05:05.505Z");
        await upsertJobRun(database, { jobId, lastStartedAt: started });
        const first = (await listJobRuns(database)).find((r) => r.jobId === jobId);
        expect(first).toEqual({
          jobId,
          lastStartedAt: started,
          lastFinishedAt: null,
          lastStatus: null,
          lastError: null,
          lastDurationMs: null,
        });
        const finished = MS("2024-05-05T05:05:06.006Z");
        await upsertJobRun(database, {
          jobId,
          lastFinishedAt: finished,
          lastStatus: "failed",
          lastError: "boom",
          lastDurationMs: 501,
        });
        const second = (await listJobRuns(database)).find((r) => r.jobId === jobId);
        expect(second).toEqual({
          jobId,
          lastStartedAt: started,
          lastFinishedAt: finished,
          lastStatus: "failed",
          lastError: "boom",
          lastDurationMs: 501,
        });
      });
    });

    describe("audit log", () => {
      test("entries list newest first, filtered by action and actor, paged, with JSON detail intact", async () => {
        const actor = await givenUser(t.deps);
        const action = `user.test-${uniq()}`;
        const details = [0, 1, 2, 3].map((i) => ({ n: i, tags: ["a", "b"], nested: { ok: i % 2 === 0, name: "Zoë" } }));
        for (const [i, detail] of details.entries()) {
          await insertAuditEntry(database, {
            actorId: i === 3 ? null : actor.id,
            actorName: i === 3 ? "system" : actor.username,
            action,
            targetType: "user",
            targetId: `t${i}`,
            detail,
            ip: "198.51.100.7",
          });
          await Bun.sleep(3);
        }
        await insertAuditEntry(database, {
          actorId: actor.id,
          actorName: actor.username,
          action: `${action}-other`,
          detail: {},
        });

        const all = await listAuditEntries(database, { action });
        expect(all.total).toBe(4);
        expect(all.entries.map((e) => e.targetId)).toEqual(["t3", "t2", "t1", "t0"]);
        expect(all.entries[0]!.at).toBeInstanceOf(Date);
        expect(all.entries[0]!.at.getTime()).toBeGreaterThan(all.entries[3]!.at.getTime());
        expect(all.entries[3]!.detail).toEqual(details[0]!);
        expect(all.entries[0]!.actorId).toBeNull();

        const page = await listAuditEntries(database, { action, limit: 2, offset: 1 });
        expect(page.entries.map((e) => e.targetId)).toEqual(["t2", "t1"]);
        expect(page.total).toBe(4);

        const byActor = await listAuditEntries(database, { actorId: actor.id });
        expect(byActor.total).toBe(4);
        expect(byActor.entries.map((e) => e.action)).toEqual([`${action}-other`, action, action, action]);
        const both = await listAuditEntries(database, { actorId: actor.id, action });
        expect(both.entries.map((e) => e.targetId)).toEqual(["t2", "t1", "t0"]);
      });
    });

    describe("API tokens", () => {
      function newToken(userId: string, patch: Partial<ApiToken> = {}): ApiToken {
        return {
          id: crypto.randomUUID(),
          userId,
          name: "script",
          tokenHash: randomBytes(32).toString("hex"),
          lastChars: "abcd",
          createdAt: MS("2024-01-01T00:00:00.500Z"),
          lastUsedAt: null,
          ...patch,
        };
      }

      test("insert, find by hash, list newest first, touch", async () => {
        const user = await givenUser(t.deps);
        const older = newToken(user.id, { name: "older" });
        const newer = newToken(user.id, { name: "newer", createdAt: MS("2024-01-02T00:00:00.750Z") });
        await insertApiToken(database, older);
        await insertApiToken(database, newer);

        expect(await findApiTokenByHash(database, older.tokenHash)).toEqual(older);
        expect(await findApiTokenByHash(database, "f".repeat(64))).toBeUndefined();
        expect((await listApiTokensByUser(database, user.id)).map((x) => x.name)).toEqual(["newer", "older"]);

        await touchApiToken(database, older.id, MS("2024-03-03T03:03:03.303Z"));
        const touched = await findApiTokenByHash(database, older.tokenHash);
        expect(touched!.lastUsedAt).toBeInstanceOf(Date);
        expect(touched!.lastUsedAt!.getTime()).toBe(MS("2024-03-03T03:03:03.303Z").getTime());
      });

      test("a duplicate hash is refused with context", async () => {
        const user = await givenUser(t.deps);
        const token = newToken(user.id);
        await insertApiToken(database, token);
        expect(insertApiToken(database, newToken(user.id, { tokenHash: token.tokenHash }))).rejects.toThrow(
          "store: unable to insert API token",
        );
      });

      test("delete is scoped to the owner", async () => {
        const owner = await givenUser(t.deps);
        const other = await givenUser(t.deps);
        const token = newToken(owner.id);
        await insertApiToken(database, token);

        expect(await deleteApiToken(database, token.id, other.id)).toBe(false);
        expect(await findApiTokenByHash(database, token.tokenHash)).toBeDefined();
        expect(await deleteApiToken(database, token.id, owner.id)).toBe(true);
        expect(await findApiTokenByHash(database, token.tokenHash)).toBeUndefined();
        expect(await deleteApiToken(database, token.id, owner.id)).toBe(false);
      });

      test("deleteApiTokensByUser removes every token of that user and no one else's", async () => {
        const owner = await givenUser(t.deps);
        const other = await givenUser(t.deps);
        await insertApiToken(database, newToken(owner.id));
        await insertApiToken(database, newToken(owner.id));
        const kept = newToken(other.id);
        await insertApiToken(database, kept);
        expect(await deleteApiTokensByUser(database, owner.id)).toBe(2);
        expect(await listApiTokensByUser(database, owner.id)).toEqual([]);
        expect(await listApiTokensByUser(database, other.id)).toEqual([kept]);
        expect(await deleteApiTokensByUser(database, owner.id)).toBe(0);
      });
    });

    describe("transactions", () => {
      const now = MS("2025-06-01T12:00:00.000Z");
      function download(userId: string, count: number) {
        const id = crypto.randomUUID();
        const items: NewDownloadItem[] = Array.from({ length: count }, (_, i) => ({
          id: `${id}-${i}`,
          downloadId: id,
          userId,
          position: i + 1,
          remoteId: `video-${i}`,
          title: `Video ${i}`,
          url: `https://www.youtube.com/watch?v=video-${i}`,
          status: "queued" as const,
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
        }));
        const row = {
          id,
          userId,
          url: "https://www.youtube.com/playlist?list=PL1",
          kind: "playlist" as const,
          remoteId: "PL1",
          title: "A playlist",
          quality: "best" as const,
          sectionKey: "1",
          folder: "/library",
          status: "queued" as const,
          itemCount: count,
          createdAt: now,
          updatedAt: now,
        };
        return { row, items };
      }

      test("a download of 450 items is written whole: the row and every item", async () => {
        const user = await insertUser(database, newUser({ username: `tx-${uniq()}` }));
        const { row, items } = download(user.id, 450);
        await insertDownload(database, row, items);
        expect((await findDownloadById(database, row.id))?.itemCount).toBe(450);
        expect(await listDownloadItems(database, row.id)).toHaveLength(450);
      });

      test("an item refused in the third chunk leaves neither the download nor its first 400 items", async () => {
        const user = await insertUser(database, newUser({ username: `tx-${uniq()}` }));
        const { row, items } = download(user.id, 450);
        items[420] = { ...items[420]!, id: items[3]!.id };
        await expect(insertDownload(database, row, items)).rejects.toThrow(/^store: unable to insert download: /);
        expect(await findDownloadById(database, row.id)).toBeUndefined();
        expect(await rawRows(database, "select id from download_items where download_id = $1", row.id)).toEqual([]);
      });

      test("an admin's decision moves the waiting items and names the admin; a second decision changes nothing", async () => {
        const user = await insertUser(database, newUser({ username: `tx-${uniq()}` }));
        const admin = await insertUser(database, newUser({ username: `tx-admin-${uniq()}`, role: "admin" }));
        const other = await insertUser(database, newUser({ username: `tx-admin-${uniq()}`, role: "admin" }));
        const { row, items } = download(user.id, 3);
        const waiting = items.map((i) => ({ ...i, status: "awaiting_approval" as const }));
        await insertDownload(database, { ...row, status: "awaiting_approval" }, waiting);
        const at = MS("2025-06-02T08:00:00.000Z");
        const moved = await decideDownload(database, row.id, admin.id, { status: "queued", at });
        expect(moved.map((i) => i.status)).toEqual(["queued", "queued", "queued"]);
        const decided = await findDownloadById(database, row.id);
        expect([decided?.decidedBy, decided?.decidedAt?.toISOString()]).toEqual([admin.id, at.toISOString()]);
        const later = MS("2025-06-03T08:00:00.000Z");
        expect(await decideDownload(database, row.id, other.id, { status: "cancelled", at: later })).toEqual([]);
        expect((await findDownloadById(database, row.id))?.decidedBy).toBe(admin.id);
        expect((await listDownloadItems(database, row.id)).map((i) => i.status)).toEqual([
          "queued",
          "queued",
          "queued",
        ]);
      });

      test("a throw after the statements ran rolls them back, and what the work returns comes back", async () => {
        const name = `tx-${uniq()}`;
        const rolledBack = inTransaction(database, function* (tx) {
          yield tx.insert(database.tables.users).values(newUser({ username: name }));
          throw new Error("changed my mind");
        });
        await expect(rolledBack).rejects.toThrow("changed my mind");
        expect(await findUserByUsername(database, name)).toBeUndefined();
        const rows = await inTransaction(database, function* (tx) {
          const inserted = (yield tx
            .insert(database.tables.users)
            .values(newUser({ username: name }))
            .returning({ username: database.tables.users.username })) as { username: string }[];
          return inserted.map((r) => r.username);
        });
        expect(rows).toEqual([name]);
        expect((await findUserByUsername(database, name))?.username).toBe(name);
      });

      test("a subscription is stored with its 450 seen videos; the same link again stores nothing", async () => {
        const user = await insertUser(database, newUser({ username: `tx-${uniq()}` }));
        const sub = {
          userId: user.id,
          url: "https://www.youtube.com/@channel/videos",
          title: "A channel",
          quality: "best" as const,
          sectionKey: "1",
          status: "active" as const,
          checkDueAt: now,
          queuedCount: 0,
          createdAt: now,
          updatedAt: now,
        };
        const seen = Array.from({ length: 450 }, (_, i) => `seen-${i}`);
        const first = crypto.randomUUID();
        expect(await insertSubscription(database, { ...sub, id: first }, seen)).toBe(true);
        expect((await seenRemoteIds(database, first, [...seen, "new-one"])).size).toBe(450);
        const again = crypto.randomUUID();
        expect(await insertSubscription(database, { ...sub, id: again }, ["other"])).toBe(false);
        expect(
          await rawRows(database, "select remote_id from subscription_seen where subscription_id = $1", again),
        ).toEqual([]);
      });
    });
  });
}
