CREATE TABLE "download_items" (
	"id" text PRIMARY KEY NOT NULL,
	"download_id" text NOT NULL,
	"user_id" text NOT NULL,
	"position" integer NOT NULL,
	"remote_id" text NOT NULL,
	"title" text NOT NULL,
	"url" text,
	"playlist_index" integer,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"claimed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"file_path" text,
	"bytes" bigint,
	"error" text,
	"worker_host" text,
	"worker_pgid" integer,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "downloads" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"url" text NOT NULL,
	"kind" text NOT NULL,
	"remote_id" text NOT NULL,
	"title" text NOT NULL,
	"channel" text,
	"thumbnail_url" text,
	"quality" text NOT NULL,
	"section_key" text NOT NULL,
	"folder" text NOT NULL,
	"status" text NOT NULL,
	"item_count" integer NOT NULL,
	"estimated_bytes" bigint,
	"error" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "download_items" ADD CONSTRAINT "download_items_download_id_downloads_id_fk" FOREIGN KEY ("download_id") REFERENCES "public"."downloads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "download_items" ADD CONSTRAINT "download_items_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "downloads" ADD CONSTRAINT "downloads_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "download_items_due_idx" ON "download_items" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "download_items_user_status_idx" ON "download_items" USING btree ("user_id","status");--> statement-breakpoint
CREATE INDEX "download_items_user_claimed_idx" ON "download_items" USING btree ("user_id","claimed_at");--> statement-breakpoint
CREATE INDEX "download_items_download_idx" ON "download_items" USING btree ("download_id","position");--> statement-breakpoint
CREATE INDEX "downloads_user_created_idx" ON "downloads" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "downloads_status_created_idx" ON "downloads" USING btree ("status","created_at");