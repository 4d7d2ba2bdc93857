CREATE TABLE "media_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"seerr_server" text NOT NULL,
	"seerr_request_id" integer NOT NULL,
	"media_type" text NOT NULL,
	"tmdb_id" integer NOT NULL,
	"title" text NOT NULL,
	"year" integer,
	"poster_path" text,
	"seasons" jsonb NOT NULL,
	"is_4k" boolean NOT NULL,
	"status" text NOT NULL,
	"seerr_status" integer,
	"media_status" integer,
	"decline_reason" text,
	"source" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seerr_links" (
	"user_id" text PRIMARY KEY NOT NULL,
	"seerr_user_id" integer NOT NULL,
	"seerr_name" text,
	"how" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "media_requests" ADD CONSTRAINT "media_requests_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seerr_links" ADD CONSTRAINT "seerr_links_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "media_requests_seerr_idx" ON "media_requests" USING btree ("seerr_server","seerr_request_id");--> statement-breakpoint
CREATE INDEX "media_requests_user_created_idx" ON "media_requests" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "media_requests_status_created_idx" ON "media_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "media_requests_title_idx" ON "media_requests" USING btree ("media_type","tmdb_id");--> statement-breakpoint
CREATE UNIQUE INDEX "seerr_links_seerr_user_idx" ON "seerr_links" USING btree ("seerr_user_id");