/**
 * Downloads as a user and an admin see them: preview a link, queue it (quotas, approval, disk space), cancel,
 * retry, remove, delete the files; approve or decline. The workers (download-worker.ts) do the downloading.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { dirname, extname } from "node:path";
import type { AppDeps } from "../app/deps";
import { type Preview, type PreviewEntry } from "../integrations/ytdlp/types";
import { type Quality, readPreview, YtdlpError } from "../integrations/ytdlp/client";
import { isInside } from "../integrations/ytdlp/names";
import {
  countDownloadsSince,
  deleteFinishedDownload,
  type Download,
  type DownloadItem,
  findDownloadById,
  findDownloadForUser,
  insertDownload,
  listItemsWithFiles,
  clearItemFile,
  decideDownload,
  moveDownloadItems,
  type NewDownloadItem,
  oldestDownloadSince,
  refreshDownloadStatus,
  sumStoredBytes,
  ACTIVE_STATUSES,
} from "../store/downloads";
import { seenStatements } from "../store/subscriptions";
import type { User } from "../store/users";
import { notifyAdmins } from "./admin-alerts";
import { type Actor, audit } from "./audit";
import { checkDownloadLink } from "./download-links";
import { folderProblems } from "./download-folders";
import { getDownloadSettings, withCookiesFile } from "./download-settings";
import {
  formatBytes,
  freeBytes,
  publishDownloadChanged,
  QUEUE_TOPIC,
  readQueuePause,
  STOP_TOPIC,
  workDirFor,
} from "./download-worker";
import { getIntegrations, type LibraryFolder } from "./integrations";
import { notify } from "./notifications";
import { can } from "./permissions";
import { rescanFolder } from "./download-plex";

type Deps = Pick<AppDeps, "database" | "coordination" | "log" | "secretBox" | "config" | "fetch" | "metrics"> &
  Partial<Pick<AppDeps, "jobs">>;

/** A refusal the page shows as it is (why, and when to try again). */
export class DownloadRefusal extends Error {
  override readonly name = "DownloadRefusal";
  constructor(
    message: string,
    /** The form field it concerns, when there is one. */
    readonly field: "url" | "quality" | "sectionKey" | "_form" = "_form",
    /** 403 for permissions, 429 for quotas, 422 for the form, 409 for the state of the download, 503 for the disk. */
    readonly status: 403 | 404 | 409 | 422 | 429 | 503 = 422,
  ) {
    super(message);
  }
}

/** How long a preview is kept, so confirming does not run yt-dlp again. */
export const PREVIEW_TTL_MS = 10 * 60_000;
/** Previews a user may ask for in ten minutes (each runs yt-dlp). */
export const PREVIEW_LIMIT = { limit: 30, windowMs: 10 * 60_000 };
/** Playlists longer than this are cut (the rest can be queued as another playlist link). */
export const MAX_PLAYLIST_ITEMS = 1000;

/** A preview with the checks made on it, as the form shows it. */
export interface CheckedPreview {
  url: string;
  preview: Preview;
  /** Entries that will be downloaded (playlist entries on hosts not allowed are left out). */
  entries: PreviewEntry[];
  skipped: { title: string; reason: string }[];
}

function previewKey(userId: string, url: string): string {
  return `downloads:preview:${userId}:${createHash("sha256").update(url).digest("base64url")}`;
}

/** The libraries a download may go to: those the admin gave a folder. */
export async function downloadLibraries(deps: Pick<AppDeps, "database" | "secretBox">): Promise<LibraryFolder[]> {
  return (await getIntegrations(deps)).libraries.filter((l) => l.folder.trim() !== "");
}

function describeYtdlp(err: YtdlpError): string {
  switch (err.kind) {
    case "not_found":
      return `${err.message}. Downloads are unavailable until an admin fixes the yt-dlp path on the integrations page.`;
    case "unsupported":
      return `yt-dlp cannot download from this link (${err.message.replace(/^yt-dlp:\s*/, "")}).`;
    case "unavailable":
      return `The site refused: ${err.message.replace(/^yt-dlp:\s*/, "")}.`;
    case "timeout":
      return `${err.message}. Try again in a minute.`;
    case "transient":
      return `The site did not answer properly (${err.message.replace(/^yt-dlp:\s*/, "")}). Try again in a few minutes.`;
    default:
      return err.message;
  }
}

function assertMayDownload(user: Pick<User, "role" | "permissions">): void {
  if (!can(user, "download"))
    throw new DownloadRefusal("Your account may not download videos; ask an admin for the permission.", "_form", 403);
}

/** Split a preview's entries into those that may be downloaded and those left out (with why); cut at the maximum. */
export async function allowedEntries(
  preview: Preview,
  allowedHosts: string[],
): Promise<{ entries: PreviewEntry[]; skipped: CheckedPreview["skipped"] }> {
  const skipped: CheckedPreview["skipped"] = [];
  const entries: PreviewEntry[] = [];
  const hostVerdicts = new Map<string, string | null>();
  for (const e of preview.entries.slice(0, MAX_PLAYLIST_ITEMS)) {
    if (!e.url || preview.kind === "video") {
      entries.push(e);
      continue;
    }
    // A playlist may list videos elsewhere: each entry's own link must pass the same rules.
    let host: string;
    try {
      host = new URL(e.url).host;
    } catch {
      skipped.push({ title: e.title, reason: "its link is not readable" });
      continue;
    }
    if (!hostVerdicts.has(host)) {
      const r = await checkDownloadLink(e.url, { allowedHosts: allowedHosts });
      hostVerdicts.set(host, r.ok ? null : r.message);
    }
    const refused = hostVerdicts.get(host);
    if (refused) skipped.push({ title: e.title, reason: refused });
    else entries.push(e);
  }
  if (preview.entries.length > MAX_PLAYLIST_ITEMS)
    skipped.push({
      title: `${preview.entries.length - MAX_PLAYLIST_ITEMS} more videos`,
      reason: `a playlist is cut at ${MAX_PLAYLIST_ITEMS}`,
    });
  return { entries, skipped };
}

/** Check a link and ask yt-dlp what it is (from the cache when it was asked lately). */
export async function previewDownload(deps: Deps, user: User, rawUrl: string): Promise<CheckedPreview> {
  assertMayDownload(user);
  const settings = await getDownloadSettings(deps);
  const link = await checkDownloadLink(rawUrl, { allowedHosts: settings.allowedHosts });
  if (!link.ok) throw new DownloadRefusal(link.message, "url");
  const key = previewKey(user.id, link.url);
  const cached = await deps.coordination.cache.get<CheckedPreview>(key);
  if (cached) return cached;
  const limit = await deps.coordination.rateLimiter.hit(
    `rl:download-preview:${user.id}`,
    PREVIEW_LIMIT.limit,
    PREVIEW_LIMIT.windowMs,
  );
  if (!limit.allowed)
    throw new DownloadRefusal(
      `Too many previews; try again in ${Math.ceil(limit.retryAfterMs / 60_000)} min.`,
      "url",
      429,
    );
  const { ytdlpPath } = await getIntegrations(deps);
  let preview: Preview;
  try {
    preview = await withCookiesFile(settings.cookies, (cookiesFile) =>
      readPreview({ bin: ytdlpPath, cookiesFile }, link.url, { timeoutMs: 60_000 }),
    );
  } catch (err) {
    if (err instanceof YtdlpError) throw new DownloadRefusal(describeYtdlp(err), "url", 422);
    throw err;
  }
  const { entries, skipped } = await allowedEntries(preview, settings.allowedHosts);
  const checked: CheckedPreview = { url: link.url, preview, entries, skipped };
  await deps.coordination.cache.set(key, checked, PREVIEW_TTL_MS);
  return checked;
}

function clock(d: Date): string {
  return `${d.toISOString().slice(11, 16)} UTC`;
}

function waitText(ms: number): string {
  const min = Math.max(1, Math.ceil(ms / 60_000));
  return min >= 90 ? `${Math.round(min / 60)} h` : `${min} min`;
}

/** The quotas a user is held to (admins to none); null means no limit. */
export function downloadQuotas(user: User): {
  perHour: number | null;
  perDay: number | null;
  storageCap: number | null;
} {
  if (user.role === "admin") return { perHour: null, perDay: null, storageCap: null };
  return {
    perHour: user.downloadsPerHour,
    perDay: user.downloadsPerDay,
    storageCap: user.storageCapBytes,
  };
}

/** Refuse (DownloadRefusal) when a user is at a quota: downloads per hour or day, or the storage cap. */
export async function checkQuotas(deps: Deps, user: User, estimate: number | null, now: Date): Promise<void> {
  const q = downloadQuotas(user);
  for (const [limit, windowMs, name] of [
    [q.perHour, 3600_000, "hour"],
    [q.perDay, 86_400_000, "day"],
  ] as const) {
    if (limit === null) continue;
    const since = new Date(now.getTime() - windowMs);
    const used = await countDownloadsSince(deps.database, user.id, since);
    if (used < limit) continue;
    const oldest = (await oldestDownloadSince(deps.database, user.id, since)) ?? now;
    const freeAt = new Date(oldest.getTime() + windowMs);
    throw new DownloadRefusal(
      limit === 0
        ? `Your account may make no downloads per ${name}; ask an admin to raise the quota.`
        : `You have made ${used} download${used === 1 ? "" : "s"} in the last ${name}, your limit is ${limit}. You can download again at ${clock(freeAt)} (in ${waitText(freeAt.getTime() - now.getTime())}).`,
      "_form",
      429,
    );
  }
  if (q.storageCap !== null) {
    const used = await sumStoredBytes(deps.database, user.id);
    if (used >= q.storageCap)
      throw new DownloadRefusal(
        `Your downloads use ${formatBytes(used)} of your ${formatBytes(q.storageCap)}. Delete files of finished downloads below to make room, then try again.`,
        "_form",
        429,
      );
    if (estimate !== null && used + estimate > q.storageCap)
      throw new DownloadRefusal(
        `This download is about ${formatBytes(estimate)}, and your downloads use ${formatBytes(used)} of your ${formatBytes(q.storageCap)}. Pick a lower quality, or delete files below to make room.`,
        "_form",
        429,
      );
  }
}

/** Run under the per-user lock that quota checks and inserts share. */
export async function withUserLock<T>(deps: Deps, userId: string, run: () => Promise<T>): Promise<T> {
  // The quota check and the insert run under one lock per user, so two replicas cannot both let the last one in.
  const key = `lock:downloads:create:${userId}`;
  for (let i = 0; i < 100; i++) {
    const lock = await deps.coordination.locks.tryAcquire(key, 10_000);
    if (lock) {
      try {
        return await run();
      } finally {
        await lock.release();
      }
    }
    await Bun.sleep(50);
  }
  throw new DownloadRefusal(
    "Another download of yours is being queued right now; try again in a moment.",
    "_form",
    409,
  );
}

/** What a user confirmed on the form. */
export interface DownloadChoice {
  url: string;
  quality: Quality;
  sectionKey: string;
}

/** Queue the rows of a download (no checks; createDownload and subscriptions decide first). */
export async function queueDownload(
  deps: Deps,
  user: Pick<User, "id">,
  checked: CheckedPreview,
  choice: {
    quality: Quality;
    library: LibraryFolder;
    status: "queued" | "awaiting_approval";
    /** A single video reachable only through its playlist's page (checked.url): its position there. */
    playlistIndex?: number;
    /** The subscription that found the video: it is marked seen in the same transaction as the download. */
    seenBy?: string;
  },
  now = new Date(),
): Promise<Download> {
  const p = checked.preview;
  const id = crypto.randomUUID();
  const download = {
    id,
    userId: user.id,
    url: checked.url,
    kind: p.kind,
    remoteId: p.id,
    title: p.title.slice(0, 500),
    channel: p.channel?.slice(0, 200) ?? null,
    thumbnailUrl: p.thumbnailUrl,
    quality: choice.quality,
    sectionKey: choice.library.sectionKey,
    folder: choice.library.folder,
    status: choice.status,
    itemCount: checked.entries.length,
    estimatedBytes: p.sizeBytes,
    error: null,
    decidedBy: null,
    decidedAt: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  } satisfies Download;
  const items: NewDownloadItem[] = checked.entries.map((e, i) => ({
    id: crypto.randomUUID(),
    downloadId: id,
    userId: user.id,
    position: i + 1,
    remoteId: e.id.slice(0, 200),
    title: e.title.slice(0, 500),
    url: choice.playlistIndex ? null : p.kind === "video" ? checked.url : e.url,
    playlistIndex: choice.playlistIndex ?? (p.kind === "playlist" ? e.index : null),
    status: choice.status,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  }));
  const { seenBy } = choice;
  await insertDownload(
    deps.database,
    download,
    items,
    seenBy ? (tx) => seenStatements(tx, deps.database, seenBy, [p.id], now) : undefined,
  );
  if (choice.status === "queued") await deps.coordination.pubsub.publish(QUEUE_TOPIC, { downloadId: id });
  await publishDownloadChanged(deps, user.id, id);
  return download;
}

/**
 * Queue what a user confirmed: the preview (cached), the library, the quality, the quotas, the free disk space,
 * then queued or awaiting an admin's approval. Every refusal is a DownloadRefusal that says why and when.
 */
export async function createDownload(deps: Deps, user: User, actor: Actor, choice: DownloadChoice): Promise<Download> {
  assertMayDownload(user);
  const libraries = await downloadLibraries(deps);
  const library = libraries.find((l) => l.sectionKey === choice.sectionKey);
  if (!library)
    throw new DownloadRefusal(
      libraries.length ? "Pick one of the libraries offered." : "No library has a download folder yet; ask an admin.",
      "sectionKey",
    );
  const checked = await previewDownload(deps, user, choice.url);
  if (checked.entries.length === 0)
    throw new DownloadRefusal(
      checked.skipped.length
        ? `Nothing in this playlist may be downloaded: ${checked.skipped[0]!.reason}`
        : "This playlist is empty.",
      "url",
    );
  const settings = await getDownloadSettings(deps);
  const estimate = choice.quality === "audio" ? null : checked.preview.sizeBytes;
  const free = await freeBytes(library.folder);
  if (free === undefined)
    throw new DownloadRefusal(
      `The download folder of ${library.title} (${library.folder}) cannot be read; ask an admin to check it.`,
      "sectionKey",
      503,
    );
  const [unwritable] = await folderProblems([library.folder]);
  if (unwritable)
    throw new DownloadRefusal(
      `Downloads into ${library.title} cannot be saved right now (MediaNest cannot write to its folder); ask an admin.`,
      "sectionKey",
      503,
    );
  if (free - (estimate ?? 0) < settings.minFreeBytes)
    throw new DownloadRefusal(
      `Only ${formatBytes(free)} is free under ${library.folder}, and MediaNest keeps at least ${formatBytes(settings.minFreeBytes)} free${estimate ? ` (this download is about ${formatBytes(estimate)})` : ""}. Try again once an admin has made room.`,
      "_form",
      503,
    );
  const status = can(user, "auto_approve_downloads") ? "queued" : "awaiting_approval";
  const download = await withUserLock(deps, user.id, async () => {
    await checkQuotas(deps, user, estimate, new Date());
    return queueDownload(deps, user, checked, { quality: choice.quality, library, status });
  });
  await deps.coordination.cache.delete(previewKey(user.id, checked.url));
  await audit(
    deps,
    actor,
    "download.create",
    { type: "download", id: download.id },
    {
      url: download.url,
      items: download.itemCount,
      quality: download.quality,
      library: library.title,
      status,
    },
  );
  if (status === "awaiting_approval") {
    await notifyAdmins(
      deps,
      {
        kind: "admin.download_pending",
        title: "A download waits for approval",
        body: `${user.displayName} asked for ${download.title}${download.itemCount > 1 ? ` (${download.itemCount} videos)` : ""}.`,
        link: "/admin/downloads",
      },
      user.id,
    );
  }
  return download;
}

async function loadOwn(deps: Deps, user: User, id: string): Promise<Download> {
  const d =
    user.role === "admin"
      ? await findDownloadById(deps.database, id)
      : await findDownloadForUser(deps.database, id, user.id);
  if (!d) throw new DownloadRefusal("That download does not exist.", "_form", 404);
  return d;
}

async function afterChange(deps: Deps, d: Download): Promise<Download> {
  const refreshed = await refreshDownloadStatus(deps.database, d.id, new Date());
  await publishDownloadChanged(deps, d.userId, d.id);
  return refreshed?.download ?? d;
}

/** Cancel a download: waiting items are cancelled, running ones stopped (their partial files removed). */
export async function cancelDownload(deps: Deps, user: User, actor: Actor, id: string): Promise<Download> {
  const d = await loadOwn(deps, user, id);
  const now = new Date();
  const moved = await moveDownloadItems(deps.database, d.id, ["queued", "awaiting_approval", ...ACTIVE_STATUSES], {
    status: "cancelled",
    at: now,
    error: "Cancelled.",
  });
  if (moved.length === 0) throw new DownloadRefusal("This download has finished already.", "_form", 409);
  const runningIds = moved.filter((i) => i.workerPgid !== null || i.attempts > 0).map((i) => i.id);
  // The worker holding an item hears this at once; one on a replica that missed it notices at its next heartbeat.
  if (runningIds.length) await deps.coordination.pubsub.publish(STOP_TOPIC, { itemIds: runningIds });
  await removePartials(d, moved);
  await audit(deps, actor, "download.cancel", { type: "download", id: d.id }, { items: moved.length });
  return afterChange(deps, d);
}

async function removePartials(d: Download, items: DownloadItem[]): Promise<void> {
  // Items nobody holds: their partial folders (from an earlier interrupted attempt) go now.
  for (const i of items)
    if (!i.workerPgid) await rm(workDirFor(d.folder, i.id), { recursive: true, force: true }).catch(() => {});
}

/** Queue a download's failed and cancelled items again. */
export async function retryDownload(deps: Deps, user: User, actor: Actor, id: string): Promise<Download> {
  const d = await loadOwn(deps, user, id);
  const moved = await moveDownloadItems(deps.database, d.id, ["failed", "cancelled"], {
    status: d.decidedAt || !(await needsApproval(deps, d)) ? "queued" : "awaiting_approval",
    at: new Date(),
    error: null,
  });
  if (moved.length === 0) throw new DownloadRefusal("Nothing in this download failed or was cancelled.", "_form", 409);
  await deps.coordination.pubsub.publish(QUEUE_TOPIC, { downloadId: d.id });
  await audit(deps, actor, "download.retry", { type: "download", id: d.id }, { items: moved.length });
  return afterChange(deps, d);
}

async function needsApproval(deps: Deps, d: Download): Promise<boolean> {
  const { findUserById } = await import("../store/users");
  const owner = await findUserById(deps.database, d.userId);
  return !owner || !can(owner, "auto_approve_downloads");
}

/** Remove a finished download from the history (its files stay). */
export async function removeDownload(deps: Deps, user: User, actor: Actor, id: string): Promise<void> {
  const d = await loadOwn(deps, user, id);
  if (!(await deleteFinishedDownload(deps.database, d.id, d.userId)))
    throw new DownloadRefusal("Cancel the download before removing it from the list.", "_form", 409);
  await audit(deps, actor, "download.remove", { type: "download", id: d.id });
  await publishDownloadChanged(deps, d.userId, d.id);
}

/** Delete a download's files (videos and posters) from the library, then ask Plex to rescan that folder. */
export async function deleteDownloadFiles(deps: Deps, user: User, actor: Actor, id: string): Promise<number> {
  const d = await loadOwn(deps, user, id);
  const items = await listItemsWithFiles(deps.database, d.id);
  if (items.length === 0) throw new DownloadRefusal("This download has no files left.", "_form", 409);
  const folders = new Set<string>();
  for (const item of items) {
    const path = item.filePath!;
    // A stored path is ours, but it is checked again before anything is deleted.
    if (isInside(d.folder, path) && path !== d.folder) {
      await rm(path, { force: true });
      const base = path.slice(0, path.length - extname(path).length);
      for (const ext of ["jpg", "jpeg", "png", "webp"]) await rm(`${base}.${ext}`, { force: true });
      folders.add(dirname(path));
    }
    await clearItemFile(deps.database, item.id);
  }
  await audit(deps, actor, "download.delete_files", { type: "download", id: d.id }, { files: items.length });
  for (const folder of folders) await rescanFolder(deps, d.sectionKey, folder);
  await publishDownloadChanged(deps, d.userId, d.id);
  return items.length;
}

/** Approve a download that waits: its items are queued. */
export async function approveDownload(deps: Deps, admin: User, actor: Actor, id: string): Promise<Download> {
  const d = await findDownloadById(deps.database, id);
  if (!d) throw new DownloadRefusal("That download does not exist.", "_form", 404);
  const now = new Date();
  const moved = await decideDownload(deps.database, d.id, admin.id, { status: "queued", at: now });
  if (moved.length === 0) throw new DownloadRefusal("This download does not wait for approval.", "_form", 409);
  await deps.coordination.pubsub.publish(QUEUE_TOPIC, { downloadId: d.id });
  await audit(deps, actor, "download.approve", { type: "download", id: d.id });
  await notify(deps, d.userId, {
    kind: "download.approved",
    title: "Download approved",
    body: `${d.title} is queued.`,
    link: "/downloads",
  });
  return afterChange(deps, d);
}

/** Decline a download that waits: its items are cancelled and the user told why. */
export async function declineDownload(
  deps: Deps,
  admin: User,
  actor: Actor,
  id: string,
  reason: string,
): Promise<Download> {
  const d = await findDownloadById(deps.database, id);
  if (!d) throw new DownloadRefusal("That download does not exist.", "_form", 404);
  const now = new Date();
  const why = reason.trim() ? `Declined by an admin: ${reason.trim().slice(0, 300)}` : "Declined by an admin.";
  const moved = await decideDownload(deps.database, d.id, admin.id, { status: "cancelled", at: now, error: why });
  if (moved.length === 0) throw new DownloadRefusal("This download does not wait for approval.", "_form", 409);
  await audit(deps, actor, "download.decline", { type: "download", id: d.id }, { reason: reason.slice(0, 300) });
  await notify(deps, d.userId, {
    kind: "download.declined",
    title: "Download declined",
    body: `${d.title}: ${why}`,
    link: "/downloads",
  });
  return afterChange(deps, d);
}

/** Whether new downloads wait (the queue is paused), and why. */
export async function queuePauseReason(deps: Pick<AppDeps, "coordination">): Promise<string | null> {
  return (await readQueuePause(deps))?.reason ?? null;
}
