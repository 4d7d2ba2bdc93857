import type { Database, Db, Tables } from "./database";

interface Preparable {
  prepare(name?: string): { execute(values?: Record<string, unknown>): unknown };
}

/**
 * Build a hot query once per database and run it with placeholder values (`sql.placeholder("name")`), so the
 * request path neither rebuilds the query nor re-prepares the statement. PostgreSQL needs a statement name.
 */
export function preparedQuery<Row>(
  name: string,
  build: (db: Db, tables: Tables) => unknown,
): (database: Database, values: Record<string, unknown>) => Promise<Row[]> {
  const cache = new WeakMap<Database, { execute(values?: Record<string, unknown>): unknown }>();
  return async (database, values) => {
    let q = cache.get(database);
    if (!q) {
      q = (build(database.db, database.tables) as Preparable).prepare(
        database.dialect === "postgres" ? name : undefined,
      );
      cache.set(database, q);
    }
    return (await q.execute(values)) as Row[];
  };
}
