import { and, desc, eq, lt, ne, or, sql } from "drizzle-orm";
import { preparedQuery } from "../db/prepared";
import { keptLookup, writing } from "./kept";
import { dbErrorMessage, type Database, type Tables } from "../db/database";
import type { User } from "./users";

export type Session = Tables["sessions"]["$inferSelect"];
export type NewSession = Tables["sessions"]["$inferInsert"];

/** Insert a session row. */
export async function insertSession(database: Database, session: NewSession): Promise<void> {
  const { db, tables } = database;
  try {
    await writing(database, "sessions", () => db.insert(tables.sessions).values(session));
  } catch (err) {
    throw new Error(`store: unable to insert session: ${dbErrorMessage(err)}`, { cause: err });
  }
}

const sessionByHash = preparedQuery<Session>("session_by_hash", (db, t) =>
  db
    .select()
    .from(t.sessions)
    // No LIMIT: the key is unique, and a bound LIMIT made SQLite's lookup twice as slow (docs/performance.md).
    .where(eq(t.sessions.idHash, sql.placeholder("idHash"))),
);

/** Find a session by the hash of its id (signed-in requests read it with its user: findSessionWithUser). */
export async function findSessionByHash(database: Database, idHash: string): Promise<Session | undefined> {
  const [row] = await sessionByHash(database, { idHash });
  return row;
}

const sessionWithUser = preparedQuery<{ session: Session; user: User }>("session_with_user", (db, t) =>
  db
    .select({ session: t.sessions, user: t.users })
    .from(t.sessions)
    .innerJoin(t.users, eq(t.users.id, t.sessions.userId))
    .where(eq(t.sessions.idHash, sql.placeholder("idHash"))),
);

/**
 * Find a session and its user in one statement (every signed-in request; kept between writes on SQLite). On
 * PostgreSQL one round trip instead of two: 64 to 74 µs of this process's CPU against 138 to 156 µs (in process,
 * 4,000 lookups 8 at a time, docs/performance.md).
 */
export const findSessionWithUser: (
  database: Database,
  idHash: string,
) => Promise<{ session: Session; user: User } | undefined> = keptLookup(
  ["sessions", "users"],
  async (database, idHash) => (await sessionWithUser(database, { idHash }))[0],
);

/** Record activity on a session. */
export async function touchSession(database: Database, idHash: string, at: Date): Promise<void> {
  const { db, tables } = database;
  await writing(database, "sessions", () =>
    db.update(tables.sessions).set({ lastSeenAt: at }).where(eq(tables.sessions.idHash, idHash)),
  );
}

/** List a user's sessions, most recently seen first. */
export async function listSessionsByUser(database: Database, userId: string): Promise<Session[]> {
  const { db, tables } = database;
  return db
    .select()
    .from(tables.sessions)
    .where(eq(tables.sessions.userId, userId))
    .orderBy(desc(tables.sessions.lastSeenAt));
}

/** Delete one session; returns true when it existed. Scoped by user so nobody ends someone else's session. */
export async function deleteSession(database: Database, idHash: string, userId?: string): Promise<boolean> {
  const { db, tables } = database;
  const where = userId
    ? and(eq(tables.sessions.idHash, idHash), eq(tables.sessions.userId, userId))
    : eq(tables.sessions.idHash, idHash);
  const rows = await writing(database, "sessions", () =>
    db.delete(tables.sessions).where(where).returning({ id: tables.sessions.idHash }),
  );
  return rows.length > 0;
}

/** Delete every session of a user, optionally keeping one. */
export async function deleteSessionsByUser(database: Database, userId: string, keepHash?: string): Promise<number> {
  const { db, tables } = database;
  const where = keepHash
    ? and(eq(tables.sessions.userId, userId), ne(tables.sessions.idHash, keepHash))
    : eq(tables.sessions.userId, userId);
  const rows = await writing(database, "sessions", () =>
    db.delete(tables.sessions).where(where).returning({ id: tables.sessions.idHash }),
  );
  return rows.length;
}

/** Delete sessions past their absolute expiry or idle since before idleBefore. */
export async function deleteExpiredSessions(database: Database, now: Date, idleBefore: Date): Promise<number> {
  const { db, tables } = database;
  const rows = await writing(database, "sessions", () =>
    db
      .delete(tables.sessions)
      .where(or(lt(tables.sessions.expiresAt, now), lt(tables.sessions.lastSeenAt, idleBefore)))
      .returning({ id: tables.sessions.idHash }),
  );
  return rows.length;
}
