// Counts the SQL statements a SQLite database runs (every get/all/values/run/iterate of a statement it prepared
// after this was installed), so a test or benchmark can tell how many queries one page costs.
import type { Database as BunSqlite, Statement } from "bun:sqlite";

export interface QueryCounter {
  /** Statements run since the last reset. */
  readonly count: number;
  /** The SQL of the statements run since the last reset, in order. */
  readonly statements: string[];
  reset(): void;
}

const RUNNERS = ["get", "all", "values", "run", "iterate"] as const;

/** Wrap a bun:sqlite handle's prepare() and query() so that every statement run afterwards is counted. */
export function countQueries(sqlite: BunSqlite): QueryCounter {
  const statements: string[] = [];
  const wrap = (stmt: Statement): Statement => {
    const sql = stmt.toString();
    const s = stmt as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of RUNNERS) {
      const run = s[name]!.bind(stmt);
      s[name] = (...args: unknown[]) => {
        statements.push(sql);
        return run(...args);
      };
    }
    return stmt;
  };
  const prepare = sqlite.prepare.bind(sqlite);
  const query = sqlite.query.bind(sqlite);
  sqlite.prepare = ((...args: Parameters<typeof prepare>) => wrap(prepare(...args))) as typeof sqlite.prepare;
  // query() caches its statements: wrap each once.
  const wrapped = new WeakSet<Statement>();
  sqlite.query = ((...args: Parameters<typeof query>) => {
    const stmt = query(...args);
    if (!wrapped.has(stmt)) {
      wrapped.add(stmt);
      wrap(stmt);
    }
    return stmt;
  }) as typeof sqlite.query;
  return {
    get count() {
      return statements.length;
    },
    statements,
    reset() {
      statements.length = 0;
    },
  };
}
