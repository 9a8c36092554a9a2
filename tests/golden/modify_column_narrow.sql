-- mariadb:10.11.0: destructive COPY LOCK=SHARED: column name: varchar(64) -> varchar(16) may truncate values longer than 16
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(16) NOT NULL;
-- reverse: alter table orders: modify column name varchar(16) -> varchar(64)
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) NOT NULL;
-- mysql:8.0.36: destructive COPY LOCK=SHARED: column name: varchar(64) -> varchar(16) may truncate values longer than 16
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(16) COLLATE utf8mb4_general_ci NOT NULL;
-- reverse: alter table orders: modify column name varchar(16) -> varchar(64)
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(64) COLLATE utf8mb4_general_ci NOT NULL;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` MODIFY COLUMN `name` varchar(16) COLLATE utf8mb4_general_ci NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
