CREATE TABLE `download_items` (
	`id` text PRIMARY KEY NOT NULL,
	`download_id` text NOT NULL,
	`user_id` text NOT NULL,
	`position` integer NOT NULL,
	`remote_id` text NOT NULL,
	`title` text NOT NULL,
	`url` text,
	`playlist_index` integer,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`claimed_at` integer,
	`finished_at` integer,
	`file_path` text,
	`bytes` integer,
	`error` text,
	`worker_host` text,
	`worker_pgid` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`download_id`) REFERENCES `downloads`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `download_items_due_idx` ON `download_items` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `download_items_user_status_idx` ON `download_items` (`user_id`,`status`);--> statement-breakpoint
CREATE INDEX `download_items_user_claimed_idx` ON `download_items` (`user_id`,`claimed_at`);--> statement-breakpoint
CREATE INDEX `download_items_download_idx` ON `download_items` (`download_id`,`position`);--> statement-breakpoint
CREATE TABLE `downloads` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`url` text NOT NULL,
	`kind` text NOT NULL,
	`remote_id` text NOT NULL,
	`title` text NOT NULL,
	`channel` text,
	`thumbnail_url` text,
	`quality` text NOT NULL,
	`section_key` text NOT NULL,
	`folder` text NOT NULL,
	`status` text NOT NULL,
	`item_count` integer NOT NULL,
	`estimated_bytes` integer,
	`error` text,
	`decided_by` text,
	`decided_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `downloads_user_created_idx` ON `downloads` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `downloads_status_created_idx` ON `downloads` (`status`,`created_at`);