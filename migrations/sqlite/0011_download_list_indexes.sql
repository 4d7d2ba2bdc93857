CREATE INDEX `download_items_status_created_idx` ON `download_items` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `downloads_created_idx` ON `downloads` (`created_at`,`id`);