CREATE TABLE `download_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`url` text NOT NULL,
	`title` text NOT NULL,
	`channel` text,
	`thumbnail_url` text,
	`quality` text NOT NULL,
	`section_key` text NOT NULL,
	`status` text NOT NULL,
	`check_due_at` integer NOT NULL,
	`last_checked_at` integer,
	`last_error` text,
	`queued_count` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `download_subscriptions_user_url_idx` ON `download_subscriptions` (`user_id`,`url`);--> statement-breakpoint
CREATE INDEX `download_subscriptions_due_idx` ON `download_subscriptions` (`status`,`check_due_at`);--> statement-breakpoint
CREATE TABLE `subscription_seen` (
	`subscription_id` text NOT NULL,
	`remote_id` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`subscription_id`, `remote_id`),
	FOREIGN KEY (`subscription_id`) REFERENCES `download_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
