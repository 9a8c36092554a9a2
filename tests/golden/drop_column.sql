-- mariadb:10.11.0: destructive INSTANT LOCK=NONE: drops column name and its data
ALTER TABLE `orders` DROP COLUMN `name`;
-- reverse: alter table orders: add column name varchar(64)
ALTER TABLE `orders` ADD COLUMN `name` varchar(64) NOT NULL AFTER `id`;
-- mysql:8.0.36: destructive INSTANT LOCK=NONE: drops column name and its data
ALTER TABLE `orders` DROP COLUMN `name`;
-- reverse: alter table orders: add column name varchar(64)
ALTER TABLE `orders` ADD COLUMN `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL AFTER `id`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP COLUMN `name`, ALGORITHM=INPLACE, LOCK=NONE;
