DROP INDEX `service_checks_service_at_idx`;--> statement-breakpoint
CREATE INDEX `service_checks_service_at_status_idx` ON `service_checks` (`service`,`checked_at`,`status`);