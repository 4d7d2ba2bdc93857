/**
 * Whether MediaNest can write into the library folders downloads go to: a probe file written and removed again,
 * when the folders are saved, before each download and (cached briefly) for the pages that name a folder that fails.
 */
import { open, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** A library folder MediaNest cannot write to, and why, in words an admin can act on. */
export interface FolderProblem {
  folder: string;
  reason: string;
}

/** True when this process runs as a systemd service (systemd sets INVOCATION_ID for every unit it starts). */
export function underSystemd(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.INVOCATION_ID);
}

function readOnlyFix(folder: string, env: Record<string, string | undefined>): string {
  return underSystemd(env)
    ? `the service's unit keeps it read-only (ProtectSystem=strict): run sudo ./install.sh --system --downloads ${folder}, or add ReadWritePaths=${folder} in a drop-in (sudo systemctl edit medianest) and restart`
    : `it is on a read-only file system or mount (in a container, mount it writable)`;
}

/**
 * Write a probe file into a folder and remove it; the reason it cannot be written, or null when it can.
 * A real write, not access(W_OK): a read-only mount or a sandbox answers access() differently from a write.
 */
export async function probeFolder(
  folder: string,
  env: Record<string, string | undefined> = process.env,
): Promise<string | null> {
  try {
    if (!(await stat(folder)).isDirectory()) return `${folder} is not a folder`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `${folder} does not exist`
      : `${folder} cannot be read (${code ?? (err as Error).message})`;
  }
  const probe = join(folder, `.medianest-write-test-${crypto.randomUUID()}`);
  try {
    const handle = await open(probe, "wx", 0o600);
    try {
      await handle.write("probe\n");
    } finally {
      await handle.close();
    }
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EROFS") return `MediaNest cannot write to ${folder}: ${readOnlyFix(folder, env)}`;
    if (code === "EACCES" || code === "EPERM")
      return `MediaNest cannot write to ${folder}: permission denied (the user MediaNest runs as must own it or be in its group)${underSystemd(env) ? `; if the permissions are right, ${readOnlyFix(folder, env)}` : ""}`;
    if (code === "ENOSPC" || code === "EDQUOT") return `MediaNest cannot write to ${folder}: the disk is full`;
    return `MediaNest cannot write to ${folder} (${code ?? (err as Error).message})`;
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

// This replica's disk as this replica sees it (mounts differ per host), so the answers are kept here, not shared.
const recent = new Map<string, { at: number; reason: string | null }>();
const PROBE_TTL_MS = 30_000;

/** The folders of these that cannot be written, probing each at most every 30 s; fresh forgets what was kept. */
export async function folderProblems(folders: string[], opts: { fresh?: boolean } = {}): Promise<FolderProblem[]> {
  const now = Date.now();
  const out: FolderProblem[] = [];
  for (const folder of new Set(folders.filter(Boolean))) {
    let kept = recent.get(folder);
    if (opts.fresh || !kept || now - kept.at > PROBE_TTL_MS) {
      kept = { at: now, reason: await probeFolder(folder) };
      recent.set(folder, kept);
    }
    if (kept.reason) out.push({ folder, reason: kept.reason });
  }
  return out;
}
