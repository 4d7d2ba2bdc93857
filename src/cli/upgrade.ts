import { chmodSync, existsSync, linkSync, readdirSync, renameSync, rmSync, copyFileSync } from "node:fs";
import { BUILD_TARGET, COMMIT, RELEASE_URL, VERSION } from "../version";
import { CliError } from "./errors";

/** Name this machine's release asset: linux-<x64|arm64>[-musl], as `bun run release` names them. */
export function hostTarget(): string {
  if (process.platform !== "linux")
    throw new CliError(`upgrade: release binaries are built for Linux only, not ${process.platform}`);
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : undefined;
  if (!arch) throw new CliError(`upgrade: no release binary is built for this architecture (${process.arch})`);
  const musl = existsSync("/lib") && readdirSync("/lib").some((f) => f.startsWith("ld-musl-"));
  return `linux-${arch}${musl ? "-musl" : ""}`;
}

/** Hex SHA-256 of a file, read as a stream. */
async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Fetch a release file, or stop with a message naming the URL. */
async function get(url: string, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (err) {
    throw new CliError(`upgrade: could not download ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CliError(`upgrade: could not download ${url}: status=${res.status}`);
  }
  return res;
}

/** The first line a binary's `version` prints, or undefined when it does not run. */
function versionOf(path: string): string | undefined {
  const r = Bun.spawnSync([path, "version"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) return undefined;
  const lines = r.stdout.toString().trim().split("\n");
  const commit = lines.find((l) => l.startsWith("commit "))?.slice(7);
  return `${lines[0]}${commit && commit !== "unknown" ? ` (commit ${commit.slice(0, 12)})` : ""}`;
}

/** Restart medianest.service when systemd runs it; say what happened. */
function restartService(): string {
  if (!existsSync("/run/systemd/system") || !Bun.which("systemctl"))
    return "systemd is not running here; restart MediaNest yourself";
  const active = Bun.spawnSync(["systemctl", "is-active", "--quiet", "medianest"]);
  if (active.exitCode !== 0) return "medianest.service is not running; the new binary runs at its next start";
  const restart = Bun.spawnSync(["systemctl", "restart", "medianest"], { stderr: "pipe" });
  if (restart.exitCode !== 0)
    throw new CliError(
      `upgrade: the binary was replaced, but systemctl restart medianest failed: ${restart.stderr.toString().trim()}`,
    );
  return "medianest.service restarted";
}

/** The installed binary this process runs from; `bun src/main.ts` is no binary to replace. */
function installedBinary(): string {
  if (!Bun.main.startsWith("/$bunfs/"))
    throw new CliError("upgrade: this is not a compiled medianest binary (run it from the installed binary)", 2);
  return process.execPath;
}

/** Put `from` at `to` in one rename; a hard link when the filesystem allows, else a copy. */
function keepAs(from: string, to: string): void {
  const tmp = `${to}.tmp`;
  rmSync(tmp, { force: true });
  try {
    linkSync(from, tmp);
  } catch {
    copyFileSync(from, tmp);
  }
  renameSync(tmp, to);
}

/** `medianest upgrade [--rollback]`: replace this binary with the release's (verified) or with the one it replaced. */
export async function upgrade(args: string[]): Promise<number> {
  const rollback = args.includes("--rollback");
  const unknown = args.find((a) => a !== "--rollback");
  if (unknown) throw new CliError(`upgrade: unknown option ${unknown} (medianest upgrade [--rollback])`, 2);
  const exe = installedBinary();
  const previous = `${exe}.previous`;

  if (rollback) {
    if (!existsSync(previous))
      throw new CliError(`upgrade: there is no previous binary at ${previous} to roll back to`);
    const back = versionOf(previous);
    if (!back) throw new CliError(`upgrade: the previous binary at ${previous} does not run; nothing was changed`);
    // Swap, so a second --rollback returns to the binary being rolled back from.
    keepAs(exe, `${exe}.rollback`);
    renameSync(previous, exe);
    renameSync(`${exe}.rollback`, previous);
    console.log(`rolled ${exe} back to ${back}; the binary it replaced is kept at ${previous}`);
    console.log(restartService());
    return 0;
  }

  const base = (process.env.MEDIANEST_RELEASE_URL || RELEASE_URL).replace(/\/+$/, "");
  const name = `medianest-${BUILD_TARGET ?? hostTarget()}`;
  const sums = await (await get(`${base}/SHA256SUMS`, 30_000)).text();
  const expected = sums
    .split("\n")
    .map((l) => l.trim().split(/\s+\*?/))
    .find(([, file]) => file === name)?.[0];
  if (!expected || !/^[0-9a-f]{64}$/.test(expected))
    throw new CliError(`upgrade: the release at ${base} has no ${name}; nothing was changed`);
  if ((await sha256File(exe)) === expected) {
    console.log(`${exe} is already the release's binary (medianest ${VERSION}, commit ${COMMIT.slice(0, 12)})`);
    return 0;
  }

  // Downloaded beside the binary, so the final rename stays on one filesystem and is atomic.
  const incoming = `${exe}.new`;
  rmSync(incoming, { force: true });
  try {
    try {
      await Bun.write(incoming, await get(`${base}/${name}`, 600_000));
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`upgrade: could not write ${incoming}: ${(err as Error).message}`);
    }
    const actual = await sha256File(incoming);
    if (actual !== expected)
      throw new CliError(
        `upgrade: checksum mismatch for ${name}: SHA256SUMS says ${expected}, the download is ${actual}; nothing was changed`,
      );
    chmodSync(incoming, 0o755);
    const next = versionOf(incoming);
    if (!next) throw new CliError(`upgrade: the downloaded ${name} does not run here; nothing was changed`);
    const current = versionOf(exe) ?? `medianest ${VERSION}`;
    keepAs(exe, previous);
    renameSync(incoming, exe);
    console.log(`upgraded ${exe}: ${current} -> ${next}`);
    console.log(`the previous binary is kept at ${previous} (medianest upgrade --rollback)`);
  } finally {
    rmSync(incoming, { force: true });
  }
  console.log(restartService());
  return 0;
}
