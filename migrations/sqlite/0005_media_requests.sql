CREATE TABLE `media_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`seerr_server` text NOT NULL,
	`seerr_request_id` integer NOT NULL,
	`media_type` text NOT NULL,
	`tmdb_id` integer NOT NULL,
	`title` text NOT NULL,
	`year` integer,
	`poster_path` text,
	`seasons` text NOT NULL,
	`is_4k` integer NOT NULL,
	`status` text NOT NULL,
	`seerr_status` integer,
	`media_status` integer,
	`decline_reason` text,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `media_requests_seerr_idx` ON `media_requests` (`seerr_server`,`seerr_request_id`);--> statement-breakpoint
CREATE INDEX `media_requests_user_created_idx` ON `media_requests` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `media_requests_status_created_idx` ON `media_requests` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `media_requests_title_idx` ON `media_requests` (`media_type`,`tmdb_id`);--> statement-breakpoint
CREATE TABLE `seerr_links` (
	`user_id` text PRIMARY KEY NOT NULL,
	`seerr_user_id` integer NOT NULL,
	`seerr_name` text,
	`how` text NOT NULL,
	`linked_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `seerr_links_seerr_user_idx` ON `seerr_links` (`seerr_user_id`);