ALTER TABLE `users` ADD `plex_invite` text;--> statement-breakpoint
CREATE INDEX `users_plex_invite_idx` ON `users` (`plex_invite`);