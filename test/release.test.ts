// Release binaries, install.sh without a checkout and `medianest upgrade`, end to end: two x64 releases built with
// `bun run release`'s script, served by a local HTTP server together with a corrupted one and one without x64.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string; scripts: Record<string, string> };
const onX64Linux = process.platform === "linux" && process.arch === "x64";
const isRoot = process.getuid?.() === 0;
if (!onX64Linux) console.warn("release.test: not x64 Linux; the release tests are SKIPPED");
else if (!isRoot) console.warn("release.test: not root; installing from a release (it needs root) is SKIPPED");

const work = mkdtempSync(join(tmpdir(), "medianest-release-"));
const site = join(work, "site");
const NAME = "medianest-linux-x64";
const requests: string[] = [];

// The release site: /<release>/<file>, straight from the directories under `site`.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const path = decodeURIComponent(new URL(req.url).pathname);
    requests.push(path);
    const file = Bun.file(join(site, path));
    if (path.includes("..") || !(await file.exists())) return new Response("not found", { status: 404 });
    return new Response(file);
  },
});
const BASE = `http://127.0.0.1:${server.port}`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Record<string, string>, stdin?: Blob, cwd = work): Promise<Result> {
  const proc = Bun.spawn(argv, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, ...env },
    stdin: stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function sha256(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await Bun.file(path).arrayBuffer()).digest("hex");
}

/** Build one x64 release with the release script into site/<name>. */
async function buildRelease(name: string, commit: string): Promise<void> {
  const r = await run(
    ["bun", join(ROOT, "scripts/release.ts"), "--target", "linux-x64", "--out", join(site, name)],
    { MEDIANEST_BUILD_COMMIT: commit, MEDIANEST_RELEASE_URL: `${BASE}/${name}`, SOURCE_DATE_EPOCH: "1800000000" },
    undefined,
    ROOT,
  );
  if (r.code !== 0) throw new Error(`release build failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  if (!onX64Linux) return;
  await buildRelease("one", "release-one");
  await buildRelease("two", "release-two");
  // A release whose binary was damaged after SHA256SUMS was written.
  cpSync(join(site, "two"), join(site, "corrupt"), { recursive: true });
  const damaged = new Uint8Array(await Bun.file(join(site, "corrupt", NAME)).arrayBuffer());
  damaged[damaged.length >> 1]! ^= 0xff;
  writeFileSync(join(site, "corrupt", NAME), damaged);
  // A release built for arm64 only.
  mkdirSync(join(site, "arm64-only"));
  writeFileSync(join(site, "arm64-only", "medianest-linux-arm64"), "an arm64 binary");
  writeFileSync(
    join(site, "arm64-only", "SHA256SUMS"),
    `${await sha256(join(site, "arm64-only", "medianest-linux-arm64"))}  medianest-linux-arm64\n`,
  );
}, 600_000);

afterAll(() => {
  server.stop(true);
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!onX64Linux)("bun run release", () => {
  test("package.json's release script runs the release builder", () => {
    expect(pkg.scripts.release).toBe("bun scripts/release.ts");
  });

  test("writes the binary, install.sh and a SHA256SUMS that matches every file, and no source maps", async () => {
    const files = readdirSync(join(site, "one")).sort();
    expect(files).toEqual(["SHA256SUMS", "install.sh", NAME]);
    const lines = (await Bun.file(join(site, "one", "SHA256SUMS")).text()).trim().split("\n");
    const listed = Object.fromEntries(lines.map((l) => l.split("  ").reverse() as [string, string]));
    expect(Object.keys(listed).sort()).toEqual(["install.sh", NAME]);
    for (const [file, sum] of Object.entries(listed)) expect(await sha256(join(site, "one", file))).toBe(sum!);
    const check = await run(["sha256sum", "-c", "SHA256SUMS"], {}, undefined, join(site, "one"));
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`${NAME}: OK`);
  });

  test("the binary prints its version, commit, build time and target", async () => {
    const r = await run([join(site, "one", NAME), "version"], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      `medianest ${pkg.version}`,
      "commit release-one",
      "built 2027-01-15T08:00:00Z",
      "target linux-x64",
    ]);
  });

  test("the published install.sh defaults to the release's own URL", async () => {
    const text = await Bun.file(join(site, "one", "install.sh")).text();
    expect(text).toContain(`DEFAULT_RELEASE_URL="${BASE}/one"`);
  });
});

describe.skipIf(!onX64Linux || !isRoot)("install.sh without a checkout, then medianest upgrade", () => {
  const user = isRoot ? "root" : "";
  const installRoot = join(work, "root");
  const bin = join(installRoot, "usr/local/bin/medianest");

  /** Pipe a release's install.sh into sh, as `curl -fsSL …/install.sh | sudo sh -s -- --no-start` does. */
  function pipeInstall(
    release: string,
    into: string,
    env: Record<string, string> = {},
    args: string[] = [],
  ): Promise<Result> {
    return run(
      ["sh", "-s", "--", "--no-start", ...args],
      { MEDIANEST_INSTALL_ROOT: into, MEDIANEST_USER: user, ...env },
      Bun.file(join(site, release, "install.sh")),
    );
  }

  const commitOf = async (path: string) => (await run([path, "version"], {})).stdout.split("\n")[1];

  test("refuses a corrupted binary and leaves nothing installed", async () => {
    const into = join(work, "corrupt-root");
    const r = await pipeInstall("one", into, { MEDIANEST_RELEASE_URL: `${BASE}/corrupt` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`checksum mismatch for ${NAME}`);
    expect(r.stderr).toContain("nothing was installed");
    expect(existsSync(into)).toBe(false);
  });

  test("refuses a release without this machine's architecture, naming it, and leaves nothing installed", async () => {
    const into = join(work, "arm-root");
    const r = await pipeInstall("one", into, { MEDIANEST_RELEASE_URL: `${BASE}/arm64-only` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the release at ${BASE}/arm64-only has no ${NAME} (this machine is linux-x64)`);
    expect(r.stderr).toContain("medianest-linux-arm64");
    expect(existsSync(into)).toBe(false);
  });

  test("installs the verified binary as --system does: binary, data directory, env file, unit, migrated database", async () => {
    requests.length = 0;
    const library = join(work, "library");
    mkdirSync(library);
    const r = await pipeInstall("one", installRoot, {}, ["--downloads", library]);
    expect(r.stderr).not.toContain("install.sh:");
    expect(r.code).toBe(0);
    // The release's own URL, baked into its install.sh, was used.
    expect(requests).toEqual(["/one/SHA256SUMS", `/one/${NAME}`]);
    expect(await sha256(bin)).toBe(await sha256(join(site, "one", NAME)));
    expect(await commitOf(bin)).toBe("commit release-one");
    const env = await Bun.file(join(installRoot, "etc/medianest/medianest.env")).text();
    expect(env).toContain(`MEDIANEST_DATA_DIR=${join(installRoot, "var/lib/medianest")}`);
    const unit = await Bun.file(join(installRoot, "etc/systemd/system/medianest.service")).text();
    expect(unit).toContain(`ExecStart=${bin} serve`);
    expect(unit).toContain("User=root");
    expect(unit).toContain(`ReadWritePaths=${join(installRoot, "var/lib/medianest")} ${library}`);
    expect(existsSync(join(installRoot, "var/lib/medianest/medianest.db"))).toBe(true);
    expect(r.stdout).toContain("applied: 0000_init");
    expect(readdirSync(join(installRoot, "usr/local/bin"))).toEqual(["medianest"]);
  });

  test("upgrade refuses a corrupted download and a release without x64, changing nothing", async () => {
    const before = await sha256(bin);
    const corrupt = await run([bin, "upgrade"], { MEDIANEST_RELEASE_URL: `${BASE}/corrupt`, MEDIANEST_DATA_DIR: work });
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain(`upgrade: checksum mismatch for ${NAME}`);
    const arm = await run([bin, "upgrade"], { MEDIANEST_RELEASE_URL: `${BASE}/arm64-only`, MEDIANEST_DATA_DIR: work });
    expect(arm.code).toBe(1);
    expect(arm.stderr.trim()).toBe(`upgrade: the release at ${BASE}/arm64-only has no ${NAME}; nothing was changed`);
    const gone = await run([bin, "upgrade"], { MEDIANEST_RELEASE_URL: `${BASE}/missing`, MEDIANEST_DATA_DIR: work });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`could not download ${BASE}/missing/SHA256SUMS: status=404`);
    expect(await sha256(bin)).toBe(before);
    expect(readdirSync(join(installRoot, "usr/local/bin"))).toEqual(["medianest"]);
  });

  test("upgrade swaps in the verified new binary and keeps the previous one; --rollback swaps back", async () => {
    const env = { MEDIANEST_RELEASE_URL: `${BASE}/two`, MEDIANEST_DATA_DIR: work };
    const up = await run([bin, "upgrade"], env);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(
      `upgraded ${bin}: medianest ${pkg.version} (commit release-one) -> medianest ${pkg.version} (commit release-two)`,
    );
    expect(await sha256(bin)).toBe(await sha256(join(site, "two", NAME)));
    expect(await commitOf(`${bin}.previous`)).toBe("commit release-one");
    expect(readdirSync(join(installRoot, "usr/local/bin")).sort()).toEqual(["medianest", "medianest.previous"]);

    const again = await run([bin, "upgrade"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is already the release's binary");

    const back = await run([bin, "upgrade", "--rollback"], env);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(`rolled ${bin} back to medianest ${pkg.version} (commit release-one)`);
    expect(await commitOf(bin)).toBe("commit release-one");
    expect(await commitOf(`${bin}.previous`)).toBe("commit release-two");
  });

  test("upgrade from bun src/main.ts refuses: there is no binary to replace", async () => {
    const r = await run(["bun", join(ROOT, "src/main.ts"), "upgrade"], { MEDIANEST_DATA_DIR: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a compiled medianest binary");
  });
});
