import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

// Column for column twin of ./sqlite.ts; src/db/schema.test.ts holds them equal.

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull();

export const users = pgTable(
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
    plexId: bigint("plex_id", { mode: "number" }),
    plexUuid: text("plex_uuid"),
    plexTokenEnc: text("plex_token_enc"),
    oidcIssuer: text("oidc_issuer"),
    oidcSubject: text("oidc_subject"),
    permissions: jsonb("permissions").$type<string[]>().notNull(),
    requestsPerWeek: integer("requests_per_week"),
    downloadsPerHour: integer("downloads_per_hour"),
    downloadsPerDay: integer("downloads_per_day"),
    storageCapBytes: bigint("storage_cap_bytes", { mode: "number" }),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull(),
    lastLoginAt: ts("last_login_at"),
  },
  (t) => [
    uniqueIndex("users_username_idx").on(t.username),
    uniqueIndex("users_plex_id_idx").on(t.plexId),
    uniqueIndex("users_oidc_idx").on(t.oidcIssuer, t.oidcSubject),
    index("users_role_status_idx").on(t.role, t.status),
  ],
);

export const sessions = pgTable(
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
    lastSeenAt: ts("last_seen_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiTokens = pgTable(
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
    lastUsedAt: ts("last_used_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash_idx").on(t.tokenHash), index("api_tokens_user_idx").on(t.userId)],
);

export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  secret: boolean("secret").notNull(),
  updatedAt: ts("updated_at").notNull(),
});

export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: ts("at").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull(),
    ip: text("ip"),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_action_idx").on(t.action)],
);
