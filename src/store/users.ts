import { and, asc, count, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import { preparedQuery } from "../db/prepared";
import { keptLookup, writing } from "./kept";

export type User = Tables["users"]["$inferSelect"];
export type NewUser = Tables["users"]["$inferInsert"];

const userById = preparedQuery<User>("user_by_id", (db, t) =>
  db
    .select()
    .from(t.users)
    // No LIMIT: the key is unique, and a bound LIMIT made SQLite's lookup twice as slow (docs/performance.md).
    .where(eq(t.users.id, sql.placeholder("id"))),
);

/** Find a user by id; undefined when absent (every signed-in request: a prepared statement, kept between writes). */
export const findUserById: (database: Database, id: string) => Promise<User | undefined> = keptLookup(
  ["users"],
  async (database, id) => (await userById(database, { id }))[0],
);

/** Find a user by username (case-insensitive, stored lower case). */
export async function findUserByUsername(database: Database, username: string): Promise<User | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.users).where(eq(tables.users.username, username.toLowerCase())).limit(1);
  return row;
}

/** Find a user by Plex account id. */
export async function findUserByPlexId(database: Database, plexId: number): Promise<User | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.users).where(eq(tables.users.plexId, plexId)).limit(1);
  return row;
}

/** Find a user by OIDC issuer and subject. */
export async function findUserByOidc(database: Database, issuer: string, subject: string): Promise<User | undefined> {
  const { db, tables } = database;
  const [row] = await db
    .select()
    .from(tables.users)
    .where(and(eq(tables.users.oidcIssuer, issuer), eq(tables.users.oidcSubject, subject)))
    .limit(1);
  return row;
}

/** Find an account an admin added for a Plex user (by lower-cased Plex user name or email) not yet claimed. */
export async function findUserByPlexInvite(database: Database, names: string[]): Promise<User | undefined> {
  const { db, tables } = database;
  const wanted = names.filter(Boolean).map((n) => n.toLowerCase());
  if (wanted.length === 0) return undefined;
  const [row] = await db
    .select()
    .from(tables.users)
    .where(and(inArray(tables.users.plexInvite, wanted), isNull(tables.users.plexId)))
    .limit(1);
  return row;
}

/** True when at least one active admin exists. */
export async function adminExists(database: Database): Promise<boolean> {
  const { db, tables } = database;
  const [row] = await db
    .select({ id: tables.users.id })
    .from(tables.users)
    .where(and(eq(tables.users.role, "admin"), eq(tables.users.status, "active")))
    .limit(1);
  return row !== undefined;
}

/** Count the active users, or the active users of one role. */
export async function countActiveUsers(database: Database, role?: User["role"]): Promise<number> {
  const { db, tables } = database;
  const active = eq(tables.users.status, "active");
  const [row] = await db
    .select({ n: count() })
    .from(tables.users)
    .where(role ? and(eq(tables.users.role, role), active) : active);
  return Number(row?.n ?? 0);
}

/** List the ids of every active user. */
export async function listActiveUserIds(database: Database): Promise<string[]> {
  const { db, tables } = database;
  const rows = await db.select({ id: tables.users.id }).from(tables.users).where(eq(tables.users.status, "active"));
  return rows.map((r) => r.id);
}

/** Insert a user; throws with context on a constraint failure (e.g. a taken username). */
export async function insertUser(database: Database, user: NewUser): Promise<User> {
  const { db, tables } = database;
  try {
    const [row] = await writing(database, "users", () => db.insert(tables.users).values(user).returning());
    return row!;
  } catch (err) {
    throw new Error(`store: unable to insert user ${user.username}: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Update some columns of a user; returns the updated row or undefined when absent. */
export async function updateUser(database: Database, id: string, patch: Partial<NewUser>): Promise<User | undefined> {
  const { db, tables } = database;
  const [row] = await writing(database, "users", () =>
    db
      .update(tables.users)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(tables.users.id, id))
      .returning(),
  );
  return row;
}

/** Read the notification kinds a user switched off (none for an unknown user). */
export async function findMutedNotifications(database: Database, userId: string): Promise<string[]> {
  const { db, tables } = database;
  const [row] = await db
    .select({ muted: tables.users.mutedNotifications })
    .from(tables.users)
    .where(eq(tables.users.id, userId))
    .limit(1);
  return row?.muted ?? [];
}

export interface UserFilter {
  search?: string;
  role?: "admin" | "user";
  status?: "active" | "disabled" | "deleted";
  limit?: number;
  offset?: number;
}

/** The usernames of these users, by id (absent ids are left out). */
export async function findUsernames(database: Database, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { db, tables } = database;
  const u = tables.users;
  const rows = await db.select({ id: u.id, username: u.username }).from(u).where(inArray(u.id, ids));
  return new Map(rows.map((r) => [r.id, r.username]));
}

/** List users matching a filter, by username, with the total count for paging. */
export async function listUsers(
  database: Database,
  filter: UserFilter = {},
): Promise<{ users: User[]; total: number }> {
  const { db, tables } = database;
  const conds: SQL[] = [];
  if (filter.search) {
    const q = `%${filter.search.toLowerCase().replace(/[%_\\]/g, "\\$&")}%`;
    // ESCAPE is explicit (PostgreSQL defaults to backslash, SQLite has none) and lower() on every side, since
    // LIKE ignores case on SQLite but not on PostgreSQL.
    const matches = (expr: SQL) => sql`${expr} like ${q} escape '\\'`;
    conds.push(
      or(
        matches(sql`lower(${tables.users.username})`),
        matches(sql`lower(${tables.users.displayName})`),
        matches(sql`lower(coalesce(${tables.users.email}, ''))`),
      )!,
    );
  }
  if (filter.role) conds.push(eq(tables.users.role, filter.role));
  if (filter.status) conds.push(eq(tables.users.status, filter.status));
  const where = conds.length ? and(...conds) : undefined;
  const users = await db
    .select()
    .from(tables.users)
    .where(where)
    .orderBy(asc(tables.users.username))
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  const [c] = await db.select({ n: count() }).from(tables.users).where(where);
  return { users, total: Number(c?.n ?? 0) };
}
