/**
 * The admin's download settings: allowed sites, workers, the no-progress timeout, the free-disk minimum, how
 * often subscriptions are checked, and a cookies file (encrypted at rest, written to a 0600 file only per run).
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { AppDeps } from "../app/deps";
import { deleteSetting, findSetting, listSettings, upsertSetting } from "../store/settings";
import { DEFAULT_ALLOWED_HOSTS } from "./download-links";

type Deps = Pick<AppDeps, "database" | "secretBox">;

/** What the download workers and the download form go by. */
export interface DownloadSettings {
  /** Hosts links may point at (each allows its subdomains). */
  allowedHosts: string[];
  /** Downloads each replica runs at once. */
  workers: number;
  /** A download that reports no progress for this long fails. */
  stallSeconds: number;
  /** Refuse new downloads (and pause the queue) when less than this is free under a library folder. */
  minFreeBytes: number;
  /** Minutes between two checks of one subscription. */
  subscriptionCheckMinutes: number;
  /** A cookies file (Netscape format) for sites that want a sign-in; stored encrypted, never shown again. */
  cookies: string | null;
}

export const DOWNLOAD_DEFAULTS: Omit<DownloadSettings, "cookies"> = {
  allowedHosts: DEFAULT_ALLOWED_HOSTS,
  workers: 2,
  stallSeconds: 120,
  minFreeBytes: 1024 * 1024 * 1024,
  subscriptionCheckMinutes: 60,
};

/** The bounds the settings form holds each number to. */
export const DOWNLOAD_LIMITS = {
  workers: [1, 16],
  stallSeconds: [5, 86_400],
  subscriptionCheckMinutes: [5, 10_080],
} as const;

/** The PubSub topic that tells every replica's workers the settings changed (their number, for one). */
export const SETTINGS_TOPIC = "downloads:settings";

const hostsSchema = z.array(z.string().min(1)).max(200);

function int(raw: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

/** Read the download settings, with defaults for anything unset. */
export async function getDownloadSettings(deps: Deps): Promise<DownloadSettings> {
  const s = await listSettings(deps.database, deps.secretBox, "downloads.");
  let allowedHosts = DOWNLOAD_DEFAULTS.allowedHosts;
  try {
    const parsed = hostsSchema.safeParse(JSON.parse(s.get("downloads.allowed_hosts") ?? "null"));
    if (parsed.success) allowedHosts = parsed.data;
  } catch {
    // an unreadable value reads as the default list
  }
  return {
    allowedHosts,
    workers: int(s.get("downloads.workers"), DOWNLOAD_DEFAULTS.workers, ...DOWNLOAD_LIMITS.workers),
    stallSeconds: int(
      s.get("downloads.stall_seconds"),
      DOWNLOAD_DEFAULTS.stallSeconds,
      ...DOWNLOAD_LIMITS.stallSeconds,
    ),
    minFreeBytes: int(s.get("downloads.min_free_bytes"), DOWNLOAD_DEFAULTS.minFreeBytes, 0, Number.MAX_SAFE_INTEGER),
    subscriptionCheckMinutes: int(
      s.get("downloads.subscription_check_minutes"),
      DOWNLOAD_DEFAULTS.subscriptionCheckMinutes,
      ...DOWNLOAD_LIMITS.subscriptionCheckMinutes,
    ),
    cookies: s.get("downloads.cookies") || null,
  };
}

/** Save the download settings; cookies: a string replaces them, null removes them, undefined keeps them. */
export async function saveDownloadSettings(
  deps: Deps,
  v: Partial<Omit<DownloadSettings, "cookies">> & { cookies?: string | null },
): Promise<void> {
  const put = (key: string, value: string, secret = false) =>
    upsertSetting(deps.database, deps.secretBox, `downloads.${key}`, value, secret);
  if (v.allowedHosts) await put("allowed_hosts", JSON.stringify(hostsSchema.parse(v.allowedHosts)));
  if (v.workers !== undefined) await put("workers", String(v.workers));
  if (v.stallSeconds !== undefined) await put("stall_seconds", String(v.stallSeconds));
  if (v.minFreeBytes !== undefined) await put("min_free_bytes", String(v.minFreeBytes));
  if (v.subscriptionCheckMinutes !== undefined)
    await put("subscription_check_minutes", String(v.subscriptionCheckMinutes));
  if (v.cookies === null) await deleteSetting(deps.database, "downloads.cookies");
  else if (v.cookies !== undefined) await put("cookies", v.cookies, true);
}

/** Read the yt-dlp path alone (a worker need not decrypt the other integrations' secrets). */
export async function getYtdlpPath(deps: Deps): Promise<string> {
  return (await findSetting(deps.database, deps.secretBox, "ytdlp.path")) || "yt-dlp";
}

/** Whether a cookies file is saved (without decrypting it). */
export async function hasCookies(deps: Deps): Promise<boolean> {
  return Boolean(await findSetting(deps.database, deps.secretBox, "downloads.cookies"));
}

/** Write the saved cookies to a file of its own (0600 from its creation, in a fresh 0700 folder); remove() it after the run. */
export async function createCookiesFile(cookies: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "medianest-cookies-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, "cookies.txt");
    const handle = await open(path, "wx", 0o600);
    try {
      await handle.write(cookies);
    } finally {
      await handle.close();
    }
    return { path, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Run with the saved cookies in a file of their own, removed afterwards whatever happens; null without cookies. */
export async function withCookiesFile<T>(cookies: string | null, run: (path: string | null) => Promise<T>): Promise<T> {
  if (!cookies) return run(null);
  const file = await createCookiesFile(cookies);
  try {
    return await run(file.path);
  } finally {
    await file.remove();
  }
}

/** A yt-dlp version's release date (its versions are dates: 2025.06.30, or 2025.06.30.123456 for nightlies). */
export function ytdlpReleaseDate(version: string): Date | undefined {
  const m = /^(\d{4})\.(\d{1,2})\.(\d{1,2})/.exec(version.trim());
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Days after which a yt-dlp release counts as old: YouTube changes often enough to break one this age. */
export const YTDLP_OLD_AFTER_DAYS = 90;

/** A warning when the yt-dlp version is older than about three months; null when it is newer or unreadable. */
export function ytdlpAgeWarning(version: string, now = new Date()): string | null {
  const released = ytdlpReleaseDate(version);
  if (!released) return null;
  const days = Math.floor((now.getTime() - released.getTime()) / 86_400_000);
  if (days <= YTDLP_OLD_AFTER_DAYS) return null;
  const months = Math.floor(days / 30);
  return `yt-dlp ${version} is ${months >= 2 ? `${months} months` : `${days} days`} old. YouTube changes often and old versions stop working: install a current release (pip install -U yt-dlp, or the release binary) and point the yt-dlp path at it.`;
}
