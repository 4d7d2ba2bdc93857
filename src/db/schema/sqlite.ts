import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Column for column twin of ./postgres.ts; src/db/schema.test.ts holds them equal.

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    username: text("username").notNull(),
    displayName: text("display_name").notNull(),
    email: text("email"),
    avatarUrl: text("avatar_url"),
    role: text("role", { enum: ["admin", "user"] }).notNull(),
    status: text("status", { enum: ["active", "disabled", "deleted"] }).notNull(),
    passwordHash: text("password_hash"),
    plexId: integer("plex_id"),
    plexUuid: text("plex_uuid"),
    plexTokenEnc: text("plex_token_enc"),
    /** The machineIdentifier of the Plex server plexTokenEnc was issued for; the token goes to no other server. */
    plexTokenServer: text("plex_token_server"),
    /** Lower-cased Plex user name or email an admin added; the first matching Plex sign-in claims the account. */
    plexInvite: text("plex_invite"),
    oidcIssuer: text("oidc_issuer"),
    oidcSubject: text("oidc_subject"),
    permissions: text("permissions", { mode: "json" }).$type<string[]>().notNull(),
    requestsPerWeek: integer("requests_per_week"),
    requestsPerDay: integer("requests_per_day"),
    downloadsPerHour: integer("downloads_per_hour"),
    downloadsPerDay: integer("downloads_per_day"),
    storageCapBytes: integer("storage_cap_bytes"),
    /** Notification kinds the user switched off ("Notify me about"); null: none, so new kinds start on. */
    mutedNotifications: text("muted_notifications", { mode: "json" }).$type<string[]>(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    lastLoginAt: integer("last_login_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("users_username_idx").on(t.username),
    uniqueIndex("users_plex_id_idx").on(t.plexId),
    uniqueIndex("users_oidc_idx").on(t.oidcIssuer, t.oidcSubject),
    index("users_role_status_idx").on(t.role, t.status),
    index("users_plex_invite_idx").on(t.plexInvite),
  ],
);

export const sessions = sqliteTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    csrfToken: text("csrf_token").notNull(),
    userAgent: text("user_agent").notNull(),
    ip: text("ip").notNull(),
    createdAt: createdAt(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    lastChars: text("last_chars").notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("api_tokens_hash_idx").on(t.tokenHash), index("api_tokens_user_idx").on(t.userId)],
);

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  secret: integer("secret", { mode: "boolean" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    ip: text("ip"),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_action_idx").on(t.action)],
);

export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    link: text("link"),
    createdAt: createdAt(),
    readAt: integer("read_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("notifications_user_created_idx").on(t.userId, t.createdAt),
    index("notifications_user_read_idx").on(t.userId, t.readAt),
  ],
);

export const notificationTargets = sqliteTable(
  "notification_targets",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["webhook", "discord", "ntfy", "email"] }).notNull(),
    name: text("name").notNull(),
    configEnc: text("config_enc").notNull(),
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("notification_targets_user_idx").on(t.userId)],
);

export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: text("id").primaryKey(),
    targetId: text("target_id")
      .notNull()
      .references(() => notificationTargets.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["pending", "sending", "sent", "failed"] }).notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
    lastError: text("last_error"),
    createdAt: createdAt(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("notification_deliveries_target_idx").on(t.targetId),
  ],
);

export const serviceChecks = sqliteTable(
  "service_checks",
  {
    id: text("id").primaryKey(),
    service: text("service").notNull(),
    checkedAt: integer("checked_at", { mode: "timestamp_ms" }).notNull(),
    status: text("status", { enum: ["up", "degraded", "down", "maintenance", "unknown"] }).notNull(),
    responseMs: integer("response_ms"),
    message: text("message"),
  },
  // Status last: the uptime counts read only this index, never the table.
  (t) => [index("service_checks_service_at_status_idx").on(t.service, t.checkedAt, t.status)],
);

export const jobRuns = sqliteTable("job_runs", {
  jobId: text("job_id").primaryKey(),
  lastStartedAt: integer("last_started_at", { mode: "timestamp_ms" }),
  lastFinishedAt: integer("last_finished_at", { mode: "timestamp_ms" }),
  lastStatus: text("last_status", { enum: ["ok", "failed", "skipped"] }),
  lastError: text("last_error"),
  lastDurationMs: integer("last_duration_ms"),
});

const DOWNLOAD_STATUSES = [
  "queued",
  "awaiting_approval",
  "downloading",
  "processing",
  "completed",
  "failed",
  "cancelled",
] as const;

/** A download a user asked for: one video, or a playlist whose videos are its items. */
export const downloads = sqliteTable(
  "downloads",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    kind: text("kind", { enum: ["video", "playlist"] }).notNull(),
    remoteId: text("remote_id").notNull(),
    title: text("title").notNull(),
    channel: text("channel"),
    thumbnailUrl: text("thumbnail_url"),
    quality: text("quality").notNull(),
    sectionKey: text("section_key").notNull(),
    folder: text("folder").notNull(),
    status: text("status", { enum: DOWNLOAD_STATUSES }).notNull(),
    itemCount: integer("item_count").notNull(),
    estimatedBytes: integer("estimated_bytes"),
    error: text("error"),
    decidedBy: text("decided_by"),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("downloads_user_created_idx").on(t.userId, t.createdAt),
    index("downloads_status_created_idx").on(t.status, t.createdAt),
    // Every download newest first (the admins' page) reads this index backwards instead of sorting the table.
    index("downloads_created_idx").on(t.createdAt, t.id),
  ],
);

/**
 * One video of a download, the unit workers claim: next_attempt_at is when a queued item is due and, while it is
 * downloading, when its lease runs out; attempts counts claims and fences a worker that lost its lease.
 */
export const downloadItems = sqliteTable(
  "download_items",
  {
    id: text("id").primaryKey(),
    downloadId: text("download_id")
      .notNull()
      .references(() => downloads.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    remoteId: text("remote_id").notNull(),
    title: text("title").notNull(),
    url: text("url"),
    playlistIndex: integer("playlist_index"),
    status: text("status", { enum: DOWNLOAD_STATUSES }).notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }).notNull(),
    claimedAt: integer("claimed_at", { mode: "timestamp_ms" }),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    filePath: text("file_path"),
    bytes: integer("bytes"),
    error: text("error"),
    workerHost: text("worker_host"),
    workerPgid: integer("worker_pgid"),
    createdAt: createdAt(),
  },
  (t) => [
    index("download_items_due_idx").on(t.status, t.nextAttemptAt),
    index("download_items_user_status_idx").on(t.userId, t.status),
    index("download_items_user_claimed_idx").on(t.userId, t.claimedAt),
    index("download_items_download_idx").on(t.downloadId, t.position),
    // The oldest waiting item (the queue's health) without sorting every queued row.
    index("download_items_status_created_idx").on(t.status, t.createdAt),
    // The bytes kept on disk per person (the storage cap, the admin's queue page) read from the index alone.
    index("download_items_stored_idx").on(t.status, t.userId, t.bytes).where(sql`${t.filePath} is not null`),
  ],
);

/** A request's state as MediaNest shows it, decided from Seerr's request and media states. */
const MEDIA_REQUEST_STATUSES = [
  "pending",
  "approved",
  "declined",
  "processing",
  "partially_available",
  "available",
  "failed",
  "deleted",
  "cancelled",
  "unknown",
] as const;

/**
 * A request for a movie or show, made through MediaNest (or in Seerr's own UI by one of our users, found by the
 * sync job); the Seerr request it follows is (seerr_server, seerr_request_id).
 */
export const mediaRequests = sqliteTable(
  "media_requests",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Which Seerr (a hash of its address): ids from a Seerr connected later never collide. */
    seerrServer: text("seerr_server").notNull(),
    seerrRequestId: integer("seerr_request_id").notNull(),
    mediaType: text("media_type", { enum: ["movie", "tv"] }).notNull(),
    tmdbId: integer("tmdb_id").notNull(),
    title: text("title").notNull(),
    year: integer("year"),
    posterPath: text("poster_path"),
    seasons: text("seasons", { mode: "json" }).$type<number[]>().notNull(),
    is4k: integer("is_4k", { mode: "boolean" }).notNull(),
    status: text("status", { enum: MEDIA_REQUEST_STATUSES }).notNull(),
    /** Seerr's own numbers as last seen, so a number a newer Seerr adds is kept, not lost. */
    seerrStatus: integer("seerr_status"),
    mediaStatus: integer("media_status"),
    declineReason: text("decline_reason"),
    /** The Plex item (ratingKey) of the copy asked for, once Seerr reports Plex has it. */
    plexRatingKey: text("plex_rating_key"),
    source: text("source", { enum: ["medianest", "seerr"] }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("media_requests_seerr_idx").on(t.seerrServer, t.seerrRequestId),
    // Newest first with the id as tie-break, as the lists sort: a page of them is read from the index, not sorted.
    index("media_requests_user_created_idx").on(t.userId, t.createdAt, t.id),
    index("media_requests_status_created_idx").on(t.status, t.createdAt, t.id),
    index("media_requests_created_idx").on(t.createdAt, t.id),
    index("media_requests_title_idx").on(t.mediaType, t.tmdbId),
  ],
);

/** Which Seerr user a MediaNest user acts as (X-Api-User), and how that was found. */
export const seerrLinks = sqliteTable(
  "seerr_links",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    seerrUserId: integer("seerr_user_id").notNull(),
    seerrName: text("seerr_name"),
    how: text("how", { enum: ["plex", "email", "manual", "imported"] }).notNull(),
    linkedAt: integer("linked_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("seerr_links_seerr_user_idx").on(t.seerrUserId)],
);

/** A user's subscription to a channel or playlist: checked every few minutes, new videos queued as downloads. */
export const downloadSubscriptions = sqliteTable(
  "download_subscriptions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    title: text("title").notNull(),
    channel: text("channel"),
    thumbnailUrl: text("thumbnail_url"),
    quality: text("quality").notNull(),
    sectionKey: text("section_key").notNull(),
    status: text("status", { enum: ["active", "paused"] }).notNull(),
    checkDueAt: integer("check_due_at", { mode: "timestamp_ms" }).notNull(),
    lastCheckedAt: integer("last_checked_at", { mode: "timestamp_ms" }),
    lastError: text("last_error"),
    queuedCount: integer("queued_count").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("download_subscriptions_user_url_idx").on(t.userId, t.url),
    index("download_subscriptions_due_idx").on(t.status, t.checkDueAt),
  ],
);

/** The videos a subscription has seen (queued, or there when it was made), so each is queued at most once. */
export const subscriptionSeen = sqliteTable(
  "subscription_seen",
  {
    subscriptionId: text("subscription_id")
      .notNull()
      .references(() => downloadSubscriptions.id, { onDelete: "cascade" }),
    remoteId: text("remote_id").notNull(),
    seenAt: integer("seen_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.remoteId] })],
);
