import { dbErrorMessage, type Database, type Tables } from "../db/database";

export type JobRun = Tables["jobRuns"]["$inferSelect"];

/** Record what is known of a job's latest run; fields left undefined keep their stored values. */
export async function upsertJobRun(
  database: Database,
  run: Pick<JobRun, "jobId"> & Partial<Omit<JobRun, "jobId">>,
): Promise<void> {
  const { db, tables } = database;
  const { jobId, ...row } = run;
  try {
    await db
      .insert(tables.jobRuns)
      .values({ jobId, ...row })
      .onConflictDoUpdate({ target: tables.jobRuns.jobId, set: row });
  } catch (err) {
    throw new Error(`store: unable to record job run ${jobId}: ${dbErrorMessage(err)}`, { cause: err });
  }
}

/** List the latest run of every job that has run. */
export async function listJobRuns(database: Database): Promise<JobRun[]> {
  const { db, tables } = database;
  return db.select().from(tables.jobRuns);
}
