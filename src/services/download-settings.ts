/** The admin's download settings: allowed sites, workers, the no-progress timeout, the free-disk minimum, cookies. */
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
  /** A cookies file (Netscape format) for sites that want a sign-in; stored encrypted, never shown again. */
  cookies: string | null;
}

export const DOWNLOAD_DEFAULTS: Omit<DownloadSettings, "cookies"> = {
  allowedHosts: DEFAULT_ALLOWED_HOSTS,
  workers: 2,
  stallSeconds: 120,
  minFreeBytes: 1024 * 1024 * 1024,
};

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
    workers: int(s.get("downloads.workers"), DOWNLOAD_DEFAULTS.workers, 1, 16),
    stallSeconds: int(s.get("downloads.stall_seconds"), DOWNLOAD_DEFAULTS.stallSeconds, 5, 86_400),
    minFreeBytes: int(s.get("downloads.min_free_bytes"), DOWNLOAD_DEFAULTS.minFreeBytes, 0, Number.MAX_SAFE_INTEGER),
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
  if (v.cookies === null) await deleteSetting(deps.database, "downloads.cookies");
  else if (v.cookies !== undefined) await put("cookies", v.cookies, true);
}

/** Read the yt-dlp path alone (a worker need not decrypt the other integrations' secrets). */
export async function getYtdlpPath(deps: Deps): Promise<string> {
  return (await findSetting(deps.database, deps.secretBox, "ytdlp.path")) || "yt-dlp";
}
