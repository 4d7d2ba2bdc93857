import type { AppDeps } from "../app/deps";

/** A notification as it travels to live pages. */
export interface LiveNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: number;
}

/** Live progress of one download item, as the pages draw it. */
export interface LiveDownloadProgress {
  downloadId: string;
  itemId: string;
  position: number;
  itemCount: number;
  title: string;
  status: "downloading" | "processing";
  percent: number | null;
  /** Bytes per second. */
  speed: number | null;
  etaSeconds: number | null;
  downloadedBytes: number | null;
  totalBytes: number | null;
}

/** Domain events that live pages react to. */
export type DomainEvent =
  | { type: "notification"; notification: LiveNotification; unread: number }
  | { type: "unread"; unread: number }
  | { type: "status" }
  | { type: "notice"; text: string | null }
  | { type: "session-ended"; sessionHash: string }
  | { type: "download-progress"; progress: LiveDownloadProgress }
  | { type: "download-changed"; downloadId: string }
  /** One of the user's requests changed state (their requests page refreshes). */
  | { type: "request-changed"; requestId: string }
  /** How many requests wait for approval now (admins' navigation count and requests page). */
  | { type: "requests-pending"; pending: number };

/** PubSub topics: one per user, one for admins, one for everyone. */
export const topics = {
  user: (userId: string) => `user:${userId}`,
  admins: "admins",
  everyone: "everyone",
} as const;

/** Publish a domain event to a topic; every replica's streams for that audience receive it. Never throws. */
export async function publishEvent(
  deps: Pick<AppDeps, "coordination" | "log">,
  topic: string,
  event: DomainEvent,
): Promise<void> {
  try {
    await deps.coordination.pubsub.publish(topic, event);
  } catch (err) {
    deps.log.warn("events: publish failed", { topic, type: event.type, error: (err as Error).message });
  }
}
