// `bun run release`: the release binaries for every Linux target Bun cross-compiles to, built with package.json's
// own build flags plus the version defines, into dist/release/ with a SHA256SUMS file and install.sh.
//
//   bun run release                       every target
//   bun run release -- --target linux-x64 one target (repeatable)
//   bun run release -- --out DIR          another output directory
//
// MEDIANEST_RELEASE_URL (or, in GitHub Actions, GITHUB_REPOSITORY) names where the release will be published; the
// binaries' `medianest upgrade` and the copied install.sh default to it.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

export const TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl"] as const;
const FALLBACK_RELEASE_URL = "https://github.com/medianest/medianest/releases/latest/download";

const ROOT = resolve(import.meta.dir, "..");

/** Read --target and --out from the command line. */
function parseArgs(argv: string[]): { targets: string[]; out: string } {
  const targets: string[] = [];
  let out = join(ROOT, "dist/release");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (!v) throw new Error(`release: ${arg} needs a value`);
      return v;
    };
    if (arg === "--target") targets.push(value());
    else if (arg === "--out") out = resolve(value());
    else throw new Error(`release: unknown option ${arg}`);
  }
  for (const t of targets)
    if (!(TARGETS as readonly string[]).includes(t))
      throw new Error(`release: unknown target ${t} (${TARGETS.join(", ")})`);
  return { targets: targets.length ? targets : [...TARGETS], out };
}

/** Run a command in the repository and return its stdout, or undefined when it fails. */
function git(...args: string[]): string | undefined {
  const r = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : undefined;
}

/** The commit being released; "-dirty" when the work tree has uncommitted changes. */
function buildCommit(): string {
  if (process.env.MEDIANEST_BUILD_COMMIT) return process.env.MEDIANEST_BUILD_COMMIT;
  const head = git("rev-parse", "HEAD") ?? process.env.GITHUB_SHA ?? "unknown";
  const dirty = git("status", "--porcelain", "--untracked-files=no");
  return dirty ? `${head}-dirty` : head;
}

/** The build time: SOURCE_DATE_EPOCH when set (reproducible builds), else now; ISO 8601 in UTC to the second. */
function buildTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const date = epoch ? new Date(Number(epoch) * 1000) : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Where this release is published: MEDIANEST_RELEASE_URL, else the GitHub repository's latest release. */
export function releaseUrl(): string {
  if (process.env.MEDIANEST_RELEASE_URL) return process.env.MEDIANEST_RELEASE_URL.replace(/\/+$/, "");
  if (process.env.GITHUB_REPOSITORY)
    return `${process.env.GITHUB_SERVER_URL ?? "https://github.com"}/${process.env.GITHUB_REPOSITORY}/releases/latest/download`;
  return FALLBACK_RELEASE_URL;
}

/** Hex SHA-256 of a file, read as a stream (the binaries are 100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** The host's own target name, to run that binary once as a check. */
function hostTarget(): string | undefined {
  if (process.platform !== "linux") return undefined;
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : undefined;
  if (!arch) return undefined;
  const musl = readdirSync("/lib").some((f) => f.startsWith("ld-musl-"));
  return `linux-${arch}${musl ? "-musl" : ""}`;
}

async function main(): Promise<void> {
  const { targets, out } = parseArgs(process.argv.slice(2));
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as {
    version: string;
    scripts: Record<string, string>;
  };
  const build = pkg.scripts.build!;
  if (!build.includes("--outfile dist/medianest"))
    throw new Error("release: the build script has no --outfile dist/medianest");
  const commit = buildCommit();
  const time = buildTime();
  const url = releaseUrl();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(out, ".build-"));
  try {
    for (const target of targets) {
      const name = `medianest-${target}`;
      // Each target builds in its own folder: --sourcemap writes chunk maps beside the outfile, which a release omits.
      const dir = join(scratch, target);
      mkdirSync(dir);
      const argv = build
        .replace("--outfile dist/medianest", `--outfile ${join(dir, name)}`)
        .split(/\s+/)
        .filter(Boolean);
      argv.splice(
        argv.indexOf("--compile") + 1,
        0,
        `--target=bun-${target}`,
        "--define",
        `MEDIANEST_BUILD_COMMIT=${JSON.stringify(commit)}`,
        "--define",
        `MEDIANEST_BUILD_TIME=${JSON.stringify(time)}`,
        "--define",
        `MEDIANEST_BUILD_TARGET=${JSON.stringify(target)}`,
        "--define",
        `MEDIANEST_BUILD_RELEASE_URL=${JSON.stringify(url)}`,
      );
      console.log(`release: building ${name}`);
      const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      if (code !== 0)
        throw new Error(
          `release: building ${name} failed (exit ${code}); cross-compiling fetches Bun's runtime for ${target} from the npm registry:\n${stdout}${stderr}`,
        );
      renameSync(join(dir, name), join(out, name));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  // install.sh from a release defaults to this release's URL.
  const installer = (await Bun.file(join(ROOT, "install.sh")).text()).replace(
    /^DEFAULT_RELEASE_URL=.*$/m,
    `DEFAULT_RELEASE_URL=${JSON.stringify(url)}`,
  );
  await Bun.write(join(out, "install.sh"), installer);
  chmodSync(join(out, "install.sh"), 0o755);

  const files = readdirSync(out)
    .filter((f) => !f.startsWith("."))
    .sort();
  const sums = await Promise.all(files.map(async (f) => `${await sha256File(join(out, f))}  ${f}`));
  await Bun.write(join(out, "SHA256SUMS"), `${sums.join("\n")}\n`);

  const host = hostTarget();
  if (host && targets.includes(host)) {
    const r = Bun.spawnSync([join(out, `medianest-${host}`), "version"], { env: { PATH: process.env.PATH ?? "" } });
    const text = r.stdout.toString();
    if (r.exitCode !== 0 || !text.includes(`medianest ${pkg.version}`) || !text.includes(`commit ${commit}`))
      throw new Error(
        `release: medianest-${host} version did not print ${pkg.version} and ${commit}:\n${text}${r.stderr}`,
      );
  }
  console.log(`release: ${pkg.version} (${commit}, ${time}) in ${out}:`);
  for (const line of sums) console.log(`  ${line}`);
}

if (import.meta.main)
  await main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
