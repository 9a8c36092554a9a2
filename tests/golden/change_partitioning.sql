-- mariadb:10.11.0: safe COPY LOCK=SHARED: repartitions the table
ALTER TABLE `orders` PARTITION BY HASH (`id`)
PARTITIONS 4;
-- reverse: alter table orders: remove partitioning
ALTER TABLE `orders` REMOVE PARTITIONING;
-- mysql:8.0.36: safe COPY LOCK=SHARED: repartitions the table
ALTER TABLE `orders` /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
-- reverse: alter table orders: remove partitioning
ALTER TABLE `orders` REMOVE PARTITIONING;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
