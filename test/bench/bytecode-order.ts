// Records src/main.order: bun run build:order
// `bun build --compile --bytecode-order` lays the binary's bytecode out in the order a recorded run first used it,
// so a server touches fewer pages of its own code while it starts (less memory, fewer page faults). The profile
// holds hashes of functions, not code, and keeps working as the code changes (new functions go after the recorded
// ones); record it again when a large share of start-up code has changed.
//
// The run recorded is a restart, the common case: a migrated database with an administrator, serving what a
// restarted server serves first (health checks, metrics, the home and sign-in pages, an icon, a 404).
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const BIN = join(ROOT, "dist", "medianest");
const OUT = join(ROOT, "src", "main.order");

async function run(argv: string[], cwd = ROOT, env: Record<string, string> = {}): Promise<void> {
  const proc = Bun.spawn(argv, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (${code}):\n${out}\n${err}`);
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Start the binary recording its bytecode use, request paths, stop it. */
async function record(dataDir: string, orderFile: string, paths: string[]): Promise<void> {
  const port = freePort();
  const env = {
    MEDIANEST_DATA_DIR: dataDir,
    MEDIANEST_PORT: String(port),
    MEDIANEST_HOST: "127.0.0.1",
    BUN_BYTECODE_ORDER_OUT: orderFile,
  };
  const proc = Bun.spawn([BIN, "serve"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  const base = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      if (tries > 2000) throw new Error("bytecode-order: the server did not start");
      await Bun.sleep(5);
    }
  }
  for (const path of paths) await (await fetch(base + path, { redirect: "manual" })).arrayBuffer();
  proc.kill("SIGTERM");
  if ((await proc.exited) !== 0) throw new Error("bytecode-order: the server did not stop cleanly");
}

await run(["bun", "run", "build"]);
const work = mkdtempSync(join(tmpdir(), "medianest-order-"));
try {
  const data = join(work, "data");
  await run([BIN, "migrate"], ROOT, { MEDIANEST_DATA_DIR: data });
  await run([BIN, "create-admin", "admin"], ROOT, {
    MEDIANEST_DATA_DIR: data,
    MEDIANEST_ADMIN_PASSWORD: "order-recording-1234",
  });
  const profile = join(work, "restart.order");
  await record(data, profile, ["/readyz", "/metrics", "/", "/login", "/favicon.ico", "/no-such-page"]);
  copyFileSync(profile, OUT);
  console.log(`bytecode-order: wrote ${OUT}; run bun run build to use it`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
