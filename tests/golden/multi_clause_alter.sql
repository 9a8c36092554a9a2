-- mariadb:10.11.0: safe COPY LOCK=SHARED: drops index ix_name; queries using it may scan the table (make it IGNORED first to see); adds column qty; adds index ix_qty; repartitions the table
ALTER TABLE `orders` DROP INDEX `ix_name`, ADD COLUMN `qty` int(11) NOT NULL DEFAULT 0 AFTER `name`, ADD KEY `ix_qty` (`qty`) PARTITION BY HASH (`id`)
PARTITIONS 4;
-- reverse: alter table orders: remove partitioning, drop index ix_qty, drop column qty, add index ix_name
ALTER TABLE `orders` DROP INDEX `ix_qty`, DROP COLUMN `qty`, ADD KEY `ix_name` (`name`) REMOVE PARTITIONING;
-- mysql:8.0.36: safe COPY LOCK=SHARED: drops index ix_name; queries using it may scan the table (make it INVISIBLE first to see); adds column qty; adds index ix_qty; repartitions the table
ALTER TABLE `orders` DROP INDEX `ix_name`, ADD COLUMN `qty` int(11) NOT NULL DEFAULT 0 AFTER `name`, ADD KEY `ix_qty` (`qty`) /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
-- reverse: alter table orders: remove partitioning, drop index ix_qty, drop column qty, add index ix_name
ALTER TABLE `orders` DROP INDEX `ix_qty`, DROP COLUMN `qty`, ADD KEY `ix_name` (`name`) REMOVE PARTITIONING;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP INDEX `ix_name`, ADD COLUMN `qty` int(11) NOT NULL DEFAULT 0 AFTER `name`, ADD KEY `ix_qty` (`qty`), ALGORITHM=INPLACE, LOCK=NONE /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
