-- mariadb:10.11.0: safe INSTANT LOCK=NONE: moves column name
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) NOT NULL FIRST;
-- reverse: alter table orders: move column name AFTER `id`
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) NOT NULL AFTER `id`;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: moves column name
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL FIRST;
-- reverse: alter table orders: move column name AFTER `id`
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL AFTER `id`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL FIRST, ALGORITHM=INPLACE, LOCK=NONE;
