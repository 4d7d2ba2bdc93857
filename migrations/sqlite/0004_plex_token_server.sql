ALTER TABLE `users` ADD `plex_token_server` text;--> statement-breakpoint
-- Tokens stored before this column existed were saved at sign-in for the server configured then.
UPDATE `users` SET `plex_token_server` = (SELECT `value` FROM `settings` WHERE `key` = 'plex.machine_identifier' AND `secret` = 0) WHERE `plex_token_enc` IS NOT NULL;
