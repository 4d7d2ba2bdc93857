DROP INDEX "service_checks_service_at_idx";--> statement-breakpoint
CREATE INDEX "service_checks_service_at_status_idx" ON "service_checks" USING btree ("service","checked_at","status");