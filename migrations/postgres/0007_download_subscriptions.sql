CREATE TABLE "download_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"url" text NOT NULL,
	"title" text NOT NULL,
	"channel" text,
	"thumbnail_url" text,
	"quality" text NOT NULL,
	"section_key" text NOT NULL,
	"status" text NOT NULL,
	"check_due_at" timestamp with time zone NOT NULL,
	"last_checked_at" timestamp with time zone,
	"last_error" text,
	"queued_count" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscription_seen" (
	"subscription_id" text NOT NULL,
	"remote_id" text NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "subscription_seen_subscription_id_remote_id_pk" PRIMARY KEY("subscription_id","remote_id")
);
--> statement-breakpoint
ALTER TABLE "download_subscriptions" ADD CONSTRAINT "download_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscription_seen" ADD CONSTRAINT "subscription_seen_subscription_id_download_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."download_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "download_subscriptions_user_url_idx" ON "download_subscriptions" USING btree ("user_id","url");--> statement-breakpoint
CREATE INDEX "download_subscriptions_due_idx" ON "download_subscriptions" USING btree ("status","check_due_at");