/** What backups and restores ask the database itself: a consistent SQLite copy, who else is connected, row counts. */
import type { Database } from "./database";

/** Write a consistent copy of an open SQLite database into an empty file at target (VACUUM INTO). */
export function vacuumInto(database: Database, target: string): void {
  if (!database.sqlite) throw new Error("vacuumInto: not a SQLite database");
  // VACUUM INTO reads one snapshot while the server keeps writing.
  database.sqlite.query("VACUUM INTO ?").run(target);
}

/** The other sessions on this PostgreSQL database (replicas, psql), as "user@address (application)". */
export async function otherConnections(database: Database): Promise<string[]> {
  if (!database.pg) return [];
  const rows = await database.pg<{ who: string }[]>`
    select usename || '@' || coalesce(host(client_addr), 'local')
      || case when application_name <> '' then ' (' || application_name || ')' else '' end as who
    from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
  return rows.map((r) => r.who);
}

/** Rows in every table of the database (MediaNest's own migration table included), by table name. */
export async function tableRowCounts(database: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (database.sqlite) {
    const names = database.sqlite
      .query("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    for (const { name } of names) {
      const row = database.sqlite.query(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as {
        n: number;
      };
      out[name] = row.n;
    }
    return out;
  }
  const pg = database.pg!;
  const names = await pg<{ name: string }[]>`
    select tablename as name from pg_tables where schemaname = current_schema() order by tablename`;
  for (const { name } of names) {
    const [row] = await pg<{ n: number }[]>`select count(*)::int as n from ${pg(name)}`;
    out[name] = row?.n ?? 0;
  }
  return out;
}

/** Statements that drop every table of the current schema, run before a restore replaces them (in one transaction). */
export const DROP_CURRENT_TABLES = `DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', current_schema(), r.tablename);
  END LOOP;
END $$;`;
