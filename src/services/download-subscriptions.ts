/**
 * Subscriptions to a channel or playlist: what is there when a user subscribes counts as seen; the
 * `download-subscriptions` job checks each subscription every few minutes (the admin's setting) with yt-dlp's flat
 * playlist and queues each video it has not seen as a download of its own, within the user's quotas. A video that a
 * quota, the disk or the folder holds back stays unseen, so a later check queues it.
 */
import type { AppDeps } from "../app/deps";
import { type Quality, readPreview, YtdlpError } from "../integrations/ytdlp/client";
import type { PreviewEntry } from "../integrations/ytdlp/types";
import {
  deleteSubscription,
  findSubscriptionForUser,
  insertSubscription,
  listDueSubscriptions,
  listSubscriptions,
  seenRemoteIds,
  type Subscription,
  updateSubscription,
} from "../store/subscriptions";
import { findUserById, type User } from "../store/users";
import { notifyAdmins } from "./admin-alerts";
import { type Actor, audit } from "./audit";
import { folderProblems } from "./download-folders";
import { checkDownloadLink } from "./download-links";
import { getDownloadSettings, getYtdlpPath, withCookiesFile } from "./download-settings";
import { formatBytes, freeBytes } from "./download-worker";
import {
  allowedEntries,
  checkQuotas,
  DownloadRefusal,
  downloadLibraries,
  previewDownload,
  queueDownload,
  withUserLock,
} from "./downloads";
import { can } from "./permissions";

type Deps = Pick<AppDeps, "database" | "coordination" | "log" | "secretBox" | "config" | "fetch" | "metrics"> &
  Partial<Pick<AppDeps, "jobs">>;

/** Subscriptions checked in one run of the job (the rest wait for the next run). */
export const CHECKS_PER_RUN = 20;

function assertMaySubscribe(user: Pick<User, "role" | "permissions">): void {
  if (!can(user, "subscribe_channels") || !can(user, "download"))
    throw new DownloadRefusal(
      "Your account may not subscribe to channels; ask an admin for the permission.",
      "_form",
      403,
    );
}

/** A user's subscriptions, newest first. */
export async function userSubscriptions(deps: Pick<AppDeps, "database">, user: User): Promise<Subscription[]> {
  return listSubscriptions(deps.database, user.id);
}

/** Subscribe a user to a channel or playlist link; what it holds now counts as seen, only later videos are queued. */
export async function subscribe(
  deps: Deps,
  user: User,
  actor: Actor,
  choice: { url: string; quality: Quality; sectionKey: string },
  now = new Date(),
): Promise<Subscription> {
  assertMaySubscribe(user);
  const libraries = await downloadLibraries(deps);
  if (!libraries.some((l) => l.sectionKey === choice.sectionKey))
    throw new DownloadRefusal(
      libraries.length ? "Pick one of the libraries offered." : "No library has a download folder yet; ask an admin.",
      "sectionKey",
    );
  const checked = await previewDownload(deps, user, choice.url);
  if (checked.preview.kind !== "playlist")
    throw new DownloadRefusal(
      "This link is one video: subscribe to a channel's or a playlist's link (or download the video).",
      "url",
    );
  const settings = await getDownloadSettings(deps);
  const p = checked.preview;
  const subscription: Subscription = {
    id: crypto.randomUUID(),
    userId: user.id,
    url: checked.url,
    title: p.title.slice(0, 500),
    channel: p.channel?.slice(0, 200) ?? null,
    thumbnailUrl: p.thumbnailUrl,
    quality: choice.quality,
    sectionKey: choice.sectionKey,
    status: "active",
    checkDueAt: new Date(now.getTime() + settings.subscriptionCheckMinutes * 60_000),
    lastCheckedAt: now,
    lastError: null,
    queuedCount: 0,
    createdAt: now,
    updatedAt: now,
  };
  const fresh = await insertSubscription(
    deps.database,
    subscription,
    p.entries.map((e) => e.id),
  );
  if (!fresh) throw new DownloadRefusal("You are subscribed to this link already.", "url", 409);
  await audit(
    deps,
    actor,
    "subscription.create",
    { type: "subscription", id: subscription.id },
    { url: subscription.url, videos: p.entries.length, quality: choice.quality },
  );
  return subscription;
}

async function loadOwn(deps: Pick<AppDeps, "database">, user: User, id: string): Promise<Subscription> {
  const s = await findSubscriptionForUser(deps.database, id, user.id);
  if (!s) throw new DownloadRefusal("That subscription does not exist.", "_form", 404);
  return s;
}

/** Pause or resume a subscription of the user's; a resumed one is checked at the next run. */
export async function setSubscriptionPaused(
  deps: Deps,
  user: User,
  actor: Actor,
  id: string,
  paused: boolean,
): Promise<void> {
  const s = await loadOwn(deps, user, id);
  await updateSubscription(deps.database, s.id, {
    status: paused ? "paused" : "active",
    ...(paused ? {} : { checkDueAt: new Date(), lastError: null }),
  });
  await audit(deps, actor, paused ? "subscription.pause" : "subscription.resume", { type: "subscription", id: s.id });
}

/** Remove a subscription of the user's (the downloads it queued stay). */
export async function removeSubscription(deps: Deps, user: User, actor: Actor, id: string): Promise<void> {
  const s = await loadOwn(deps, user, id);
  await deleteSubscription(deps.database, s.id, user.id);
  await audit(deps, actor, "subscription.remove", { type: "subscription", id: s.id }, { url: s.url });
}

function describe(err: YtdlpError): string {
  return err.message.replace(/^yt-dlp:\s*/, "yt-dlp could not read the channel: ");
}

/** Check one subscription now: queue the videos it has not seen, as far as the owner's quotas allow. */
export async function checkSubscription(
  deps: Deps,
  sub: Subscription,
  now = new Date(),
): Promise<{ queued: number; error: string | null }> {
  const settings = await getDownloadSettings(deps);
  const next = new Date(now.getTime() + settings.subscriptionCheckMinutes * 60_000);
  const done = async (queued: number, error: string | null, pause = false) => {
    await updateSubscription(deps.database, sub.id, {
      lastCheckedAt: now,
      checkDueAt: next,
      lastError: error,
      addQueued: queued,
      ...(pause ? { status: "paused" as const } : {}),
    });
    return { queued, error };
  };
  const owner = await findUserById(deps.database, sub.userId);
  if (!owner || owner.status !== "active") return done(0, "The account is disabled.", true);
  if (!can(owner, "subscribe_channels") || !can(owner, "download"))
    return done(0, "Paused: the account may no longer subscribe to channels.", true);
  const library = (await downloadLibraries(deps)).find((l) => l.sectionKey === sub.sectionKey);
  if (!library) return done(0, "Its library has no download folder any more; pick another by subscribing again.");
  const link = await checkDownloadLink(sub.url, { allowedHosts: settings.allowedHosts });
  if (!link.ok) return done(0, link.message);

  let entries: PreviewEntry[];
  try {
    const ytdlpPath = await getYtdlpPath(deps);
    const preview = await withCookiesFile(settings.cookies, (cookiesFile) =>
      readPreview({ bin: ytdlpPath, cookiesFile }, link.url, { timeoutMs: 120_000 }),
    );
    entries = (await allowedEntries(preview, settings.allowedHosts)).entries;
  } catch (err) {
    if (err instanceof YtdlpError) return done(0, describe(err));
    throw err;
  }
  const seen = await seenRemoteIds(
    deps.database,
    sub.id,
    entries.map((e) => e.id),
  );
  const fresh = entries.filter((e) => !seen.has(e.id));
  if (fresh.length === 0) return done(0, null);

  const [unwritable] = await folderProblems([library.folder]);
  if (unwritable) return done(0, `${fresh.length} new, waiting: MediaNest cannot write to the library's folder.`);
  const free = await freeBytes(library.folder);
  if (free !== undefined && free < settings.minFreeBytes)
    return done(
      0,
      `${fresh.length} new, waiting: only ${formatBytes(free)} is free under the library's folder (MediaNest keeps ${formatBytes(settings.minFreeBytes)}).`,
    );

  const status = can(owner, "auto_approve_downloads") ? "queued" : "awaiting_approval";
  let queued = 0;
  let held = null as string | null;
  await withUserLock(deps, owner.id, async () => {
    for (const e of fresh) {
      try {
        await checkQuotas(deps, owner, sub.quality === "audio" ? null : e.sizeBytes, new Date());
      } catch (err) {
        if (!(err instanceof DownloadRefusal)) throw err;
        held = `${fresh.length - queued} new, waiting for your quota: ${err.message}`;
        return;
      }
      await queueDownload(
        deps,
        owner,
        {
          url: e.url ?? link.url,
          preview: {
            kind: "video",
            id: e.id,
            title: e.title,
            channel: e.channel ?? sub.channel,
            durationSeconds: e.durationSeconds,
            thumbnailUrl: e.thumbnailUrl,
            webpageUrl: e.url ?? link.url,
            sizeBytes: e.sizeBytes,
            entries: [e],
          },
          entries: [e],
          skipped: [],
        },
        {
          quality: sub.quality as Quality,
          library,
          status,
          // Sites that list no link per video: the video is fetched by its place in the list as checked now.
          ...(e.url ? {} : { playlistIndex: e.index }),
          seenBy: sub.id,
        },
      );
      queued++;
    }
  });
  if (queued > 0 && status === "awaiting_approval")
    await notifyAdmins(
      deps,
      {
        kind: "admin.download_pending",
        title: "Downloads wait for approval",
        body: `${owner.displayName}'s subscription to ${sub.title} found ${queued} new video${queued === 1 ? "" : "s"}.`,
        link: "/admin/downloads",
      },
      owner.id,
    );
  return done(queued, held);
}

/** Check the subscriptions that are due (the job's work); returns what it did, in words. */
export async function checkDueSubscriptions(deps: Deps, now = new Date()): Promise<string> {
  const due = await listDueSubscriptions(deps.database, now, CHECKS_PER_RUN);
  let queued = 0;
  let failed = 0;
  for (const sub of due) {
    try {
      const r = await checkSubscription(deps, sub, now);
      queued += r.queued;
    } catch (err) {
      failed++;
      deps.log.warn("downloads: subscription check failed", { subscription: sub.id, error: (err as Error).message });
      await updateSubscription(deps.database, sub.id, {
        lastCheckedAt: now,
        checkDueAt: new Date(now.getTime() + 5 * 60_000),
        lastError: "The check failed; it runs again in 5 minutes.",
      }).catch(() => {});
    }
  }
  return `${due.length} subscriptions checked, ${queued} videos queued${failed ? `, ${failed} failed` : ""}`;
}
