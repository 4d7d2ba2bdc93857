import type { Database, Db } from "./database";

/** The handle the statements of a transaction are built on. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** A statement drizzle has built: `.all()` runs it at once on bun:sqlite, awaiting it runs it on PostgreSQL. */
export interface Statement<R = unknown> extends PromiseLike<R> {
  all(): unknown;
}

/**
 * Run a store function's statements as one transaction: all of them or, on a throw or a crash, none.
 *
 * The work is a generator that yields each statement and gets its rows back, so one body serves both dialects.
 * bun:sqlite is synchronous and one connection serves the whole process, so on SQLite nothing may be awaited
 * inside the transaction (another request's writes would land in it): the statements run one after another in
 * drizzle's synchronous transaction. On PostgreSQL they are awaited in order on the transaction's connection.
 */
export async function inTransaction<T>(
  database: Database,
  work: (tx: Tx) => Generator<Statement, T, unknown>,
): Promise<T> {
  if (database.dialect === "sqlite") {
    return database.db.transaction((tx) => {
      const steps = work(tx);
      let step = steps.next();
      while (!step.done) step = steps.next(step.value.all());
      return step.value;
    });
  }
  return database.db.transaction(async (tx) => {
    const steps = work(tx);
    let step = steps.next();
    while (!step.done) step = steps.next(await step.value);
    return step.value;
  });
}
