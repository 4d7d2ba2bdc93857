// Claim deliveries from a SQLite file in a loop, one row at a time, from a separate process; print the ids as JSON.
// Usage: bun test/helpers/claim-worker.ts <db path> <barrier dir> <worker number> <workers>
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSqlite } from "../../src/db/database";
import { claimDueDeliveriesInOneWrite } from "../../src/store/notification-targets";

const [path, barrier, me, workers] = process.argv.slice(2);
const database = openSqlite(path!);
// Start claiming only when every worker is ready, so their claims interleave.
writeFileSync(join(barrier!, `ready-${me}`), "");
const others = Array.from({ length: Number(workers) }, (_, i) => join(barrier!, `ready-${i}`));
while (!others.every((f) => existsSync(f))) await Bun.sleep(1);
const ids: string[] = [];
for (;;) {
  const now = new Date();
  const got = await claimDueDeliveriesInOneWrite(database, {
    now,
    leaseUntil: new Date(now.getTime() + 600_000),
    limit: 1,
  });
  if (got.length === 0) break;
  ids.push(...got);
  // A real worker sends between claims; without a pause SQLite's busy handler can starve the other process.
  await Bun.sleep(1);
}
await database.close();
console.log(JSON.stringify(ids));
