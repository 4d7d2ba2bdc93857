// Profiling aid (not a benchmark): bun --cpu-prof --cpu-prof-dir=<dir> test/bench/profile-page.ts <seeded data dir> <path> [admin|member|anonymous] [seconds]
// Serves one page in this process (the app from source on a data directory seeded by test/bench/seed.ts) as fast
// as it can for some seconds, so a CPU profile shows where a page's time goes; then prints the functions with the
// most self time in the profiles of the given directory with: bun test/bench/profile-page.ts --summary <dir>.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/app/logger";
import { loadConfig } from "../../src/config/config";
import { createSecretBox, loadMasterKey } from "../../src/config/secret-box";
import { createCoordination } from "../../src/coordination";
import { openSqlite, sqliteFile } from "../../src/db/database";
import { createApp } from "../../src/server/app";
import { createDeps } from "../../src/server/runtime";
import { SESSION_COOKIE } from "../../src/services/sessions";
import { SEED_COOKIE_FILE, type SeededUser } from "./seed";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function over every .cpuprofile in a directory, the top entries first. */
function summarise(dir: string, top = 40): void {
  const self = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const p = JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, i) => {
      const f = byId.get(id)!.callFrame;
      const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
      const dt = p.timeDeltas[i] ?? 0;
      self.set(key, (self.get(key) ?? 0) + dt);
      total += dt;
    });
  }
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

if (process.argv[2] === "--summary") {
  summarise(process.argv[3]!, Number(process.argv[4] ?? 40));
} else {
  const [dataDir, path = "/", who = "member", seconds = "5"] = process.argv.slice(2);
  if (!dataDir) throw new Error("usage: profile-page.ts <seeded data dir> <path> [admin|member|anonymous] [seconds]");
  const users = JSON.parse(readFileSync(join(dataDir, SEED_COOKIE_FILE), "utf8")) as SeededUser[];
  const user = who === "admin" ? users[0]! : users[1]!;
  const database = openSqlite(sqliteFile(dataDir));
  const coordination = await createCoordination();
  const deps = createDeps({
    config: loadConfig({ MEDIANEST_DATA_DIR: dataDir, MEDIANEST_LOG_LEVEL: "error" }),
    database,
    coordination,
    secretBox: createSecretBox(loadMasterKey(dataDir)),
    log: createLogger("error"),
  });
  const app = createApp(deps);
  const headers: Record<string, string> = who === "anonymous" ? {} : { cookie: `${SESSION_COOKIE}=${user.cookie}` };
  const end = performance.now() + Number(seconds) * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    const res = await app.request(`http://localhost${path}`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    n++;
  }
  console.log(`${n} requests of ${path} in ${seconds} s: ${((performance.now() - t0) / n).toFixed(2)} ms each`);
  deps.live.closeAll();
  await coordination.close();
  await database.close();
}
