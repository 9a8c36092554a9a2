-- mariadb:10.11.0: safe INSTANT LOCK=NONE: adds column note
ALTER TABLE `orders` ADD COLUMN `note` text DEFAULT NULL AFTER `name`;
-- reverse: alter table orders: drop column note
ALTER TABLE `orders` DROP COLUMN `note`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: adds column note
ALTER TABLE `orders` ADD COLUMN `note` text COLLATE utf8mb4_general_ci DEFAULT NULL AFTER `name`;
-- reverse: alter table orders: drop column note
ALTER TABLE `orders` DROP COLUMN `note`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD COLUMN `note` text COLLATE utf8mb4_general_ci DEFAULT NULL AFTER `name`, ALGORITHM=INPLACE, LOCK=NONE;
