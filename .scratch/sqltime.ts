// bun .scratch/sqltime.ts <path> [member|admin]: time per SQL statement of one page, in process
import { Database as Raw } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
const times = new Map<string, { n: number; ms: number }>();
function wrap(st: any, sql: string) {
  for (const m of ["values", "all", "get", "run"]) {
    const orig = st[m].bind(st);
    st[m] = (...a: unknown[]) => {
      const t = performance.now();
      try { return orig(...a); } finally {
        const k = sql;
        const e = times.get(k) ?? { n: 0, ms: 0 };
        e.n++; e.ms += performance.now() - t; times.set(k, e);
      }
    };
  }
  return st;
}
for (const m of ["prepare", "query"] as const) {
  const orig = (Raw.prototype as any)[m];
  (Raw.prototype as any)[m] = function (sql: string, ...rest: unknown[]) { return wrap(orig.call(this, sql, ...rest), sql); };
}
const { createLogger } = await import("../src/app/logger");
const { loadConfig } = await import("../src/config/config");
const { createSecretBox, loadMasterKey } = await import("../src/config/secret-box");
const { createCoordination } = await import("../src/coordination");
const { openSqlite, sqliteFile } = await import("../src/db/database");
const { createApp } = await import("../src/server/app");
const { createDeps } = await import("../src/server/runtime");
const { SESSION_COOKIE } = await import("../src/services/sessions");
const dataDir = "/tmp/seed";
const [path = "/", who = "member"] = process.argv.slice(2);
const users = JSON.parse(readFileSync(join(dataDir, "seed-cookies.json"), "utf8"));
const user = who === "admin" ? users[0] : users[1];
const database = openSqlite(sqliteFile(dataDir));
const coordination = await createCoordination();
const deps = createDeps({ config: loadConfig({ MEDIANEST_DATA_DIR: dataDir, MEDIANEST_LOG_LEVEL: "error" }), database, coordination, secretBox: createSecretBox(loadMasterKey(dataDir)), log: createLogger("error") });
const app = createApp(deps);
const headers = { cookie: `${SESSION_COOKIE}=${user.cookie}` };
for (let i = 0; i < 300; i++) await (await app.request(`http://localhost${path}`, { headers })).arrayBuffer();
times.clear();
const N = 1000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await (await app.request(`http://localhost${path}`, { headers })).arrayBuffer();
console.log(`${path}: ${(((performance.now() - t0) / N) * 1000).toFixed(0)} µs per page`);
for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10))
  console.log(`${((v.ms / N) * 1000).toFixed(1).padStart(7)} µs/page  ${(v.n / N).toFixed(1)}x  ${k}`);
deps.live.closeAll(); await coordination.close(); await database.close();
