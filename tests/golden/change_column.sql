-- mariadb:10.11.0: safe INSTANT LOCK=NONE: renames column name to title; column title: varchar(64) -> varchar(128) extends the length in place; moves column title
ALTER TABLE `orders` CHANGE COLUMN `name` `title` varchar(128) NOT NULL AFTER `parent_id`;
-- reverse: alter table orders: rename column title to name
ALTER TABLE `orders` CHANGE COLUMN `title` `name` varchar(64) NOT NULL;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: renames column name to title; column title: varchar(64) -> varchar(128) extends the length in place; moves column title
ALTER TABLE `orders` CHANGE COLUMN `name` `title` varchar(128) COLLATE utf8mb4_general_ci NOT NULL AFTER `parent_id`;
-- reverse: alter table orders: rename column title to name
ALTER TABLE `orders` CHANGE COLUMN `title` `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` CHANGE COLUMN `name` `title` varchar(128) COLLATE utf8mb4_general_ci NOT NULL AFTER `parent_id`, ALGORITHM=INPLACE, LOCK=NONE;
