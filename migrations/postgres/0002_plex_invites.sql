ALTER TABLE "users" ADD COLUMN "plex_invite" text;--> statement-breakpoint
CREATE INDEX "users_plex_invite_idx" ON "users" USING btree ("plex_invite");