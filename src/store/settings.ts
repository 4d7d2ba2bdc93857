import { eq } from "drizzle-orm";
import { dbErrorMessage, type Database } from "../db/database";
import type { SecretBox } from "../config/secret-box";

const writes = new WeakMap<Database, number>();

/** How many times this process has changed a database's settings: a copy taken at another count is out of date. */
export function settingsVersion(database: Database): number {
  return writes.get(database) ?? 0;
}

function changed(database: Database): void {
  writes.set(database, settingsVersion(database) + 1);
}

/** Read one setting; secrets come back decrypted. Undefined when unset. */
export async function findSetting(database: Database, box: SecretBox, key: string): Promise<string | undefined> {
  const { db, tables } = database;
  const [row] = await db.select().from(tables.settings).where(eq(tables.settings.key, key)).limit(1);
  if (!row) return undefined;
  return row.secret ? box.decrypt(row.value) : row.value;
}

/** True when a setting is stored, whatever its value. */
export async function settingExists(database: Database, key: string): Promise<boolean> {
  const { db, tables } = database;
  const [row] = await db
    .select({ key: tables.settings.key })
    .from(tables.settings)
    .where(eq(tables.settings.key, key))
    .limit(1);
  return row !== undefined;
}

/** List settings whose key starts with prefix; secrets decrypted. */
export async function listSettings(database: Database, box: SecretBox, prefix = ""): Promise<Map<string, string>> {
  const { db, tables } = database;
  const rows = await db.select().from(tables.settings);
  const out = new Map<string, string>();
  for (const row of rows) {
    if (row.key.startsWith(prefix)) out.set(row.key, row.secret ? box.decrypt(row.value) : row.value);
  }
  return out;
}

/** Insert or replace one setting, encrypting it when secret. */
export async function upsertSetting(
  database: Database,
  box: SecretBox,
  key: string,
  value: string,
  secret = false,
): Promise<void> {
  const { db, tables } = database;
  const stored = secret ? box.encrypt(value) : value;
  const now = new Date();
  try {
    await db
      .insert(tables.settings)
      .values({ key, value: stored, secret, updatedAt: now })
      .onConflictDoUpdate({ target: tables.settings.key, set: { value: stored, secret, updatedAt: now } });
  } catch (err) {
    throw new Error(`store: unable to save setting ${key}: ${dbErrorMessage(err)}`, { cause: err });
  } finally {
    changed(database);
  }
}

/**
 * Store a plain (not secret) setting unless one is stored under its key already; true when this call stored it.
 * The database decides between racing callers: exactly one of them gets true.
 */
export async function insertSettingIfAbsent(database: Database, key: string, value: string): Promise<boolean> {
  const { db, tables } = database;
  try {
    const rows = await db
      .insert(tables.settings)
      .values({ key, value, secret: false, updatedAt: new Date() })
      .onConflictDoNothing()
      .returning({ key: tables.settings.key });
    if (rows.length > 0) changed(database);
    return rows.length > 0;
  } catch (err) {
    throw new Error(`store: unable to insert setting ${key}: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** Remove one setting. */
export async function deleteSetting(database: Database, key: string): Promise<void> {
  const { db, tables } = database;
  try {
    await db.delete(tables.settings).where(eq(tables.settings.key, key));
  } finally {
    changed(database);
  }
}
