import { and, desc, eq } from "drizzle-orm";
import { dbErrorMessage, type Database, type Tables } from "../db/database";

export type ApiToken = Tables["apiTokens"]["$inferSelect"];

/** Insert a personal API token row. */
export async function insertApiToken(database: Database, token: ApiToken): Promise<void> {
  const { db, tables } = database;
  try {
    await db.insert(tables.apiTokens).values(token);
  } catch (err) {
    throw new Error(`store: unable to insert API token: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Find a token by its hash. */
export async function findApiTokenByHash(database: Database, tokenHash: string): Promise<ApiToken | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.apiTokens).where(eq(tables.apiTokens.tokenHash, tokenHash)).limit(1);
  return row;
}

/** List a user's tokens, newest first. */
export async function listApiTokensByUser(database: Database, userId: string): Promise<ApiToken[]> {
  const { db, tables } = database;
  return db
    .select()
    .from(tables.apiTokens)
    .where(eq(tables.apiTokens.userId, userId))
    .orderBy(desc(tables.apiTokens.createdAt));
}

/** Record a token's use. */
export async function touchApiToken(database: Database, id: string, at: Date): Promise<void> {
  const { db, tables } = database;
  await db.update(tables.apiTokens).set({ lastUsedAt: at }).where(eq(tables.apiTokens.id, id));
}

/** Delete a user's token; true when it existed and was theirs. */
export async function deleteApiToken(database: Database, id: string, userId: string): Promise<boolean> {
  const { db, tables } = database;
  const rows = await db
    .delete(tables.apiTokens)
    .where(and(eq(tables.apiTokens.id, id), eq(tables.apiTokens.userId, userId)))
    .returning({ id: tables.apiTokens.id });
  return rows.length > 0;
}

/** Delete every token of a user; returns how many there were. */
export async function deleteApiTokensByUser(database: Database, userId: string): Promise<number> {
  const { db, tables } = database;
  const rows = await db
    .delete(tables.apiTokens)
    .where(eq(tables.apiTokens.userId, userId))
    .returning({ id: tables.apiTokens.id });
  return rows.length;
}
