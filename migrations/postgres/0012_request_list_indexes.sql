DROP INDEX "media_requests_user_created_idx";--> statement-breakpoint
DROP INDEX "media_requests_status_created_idx";--> statement-breakpoint
CREATE INDEX "media_requests_created_idx" ON "media_requests" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "media_requests_user_created_idx" ON "media_requests" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "media_requests_status_created_idx" ON "media_requests" USING btree ("status","created_at","id");