-- mariadb:10.11.0: safe COPY LOCK=SHARED: removes partitioning
ALTER TABLE `orders` REMOVE PARTITIONING;
-- reverse: alter table orders: partition by HASH
ALTER TABLE `orders` PARTITION BY HASH (`id`)
PARTITIONS 4;
-- mysql:8.0.36: safe COPY LOCK=SHARED: removes partitioning
ALTER TABLE `orders` REMOVE PARTITIONING;
-- reverse: alter table orders: partition by HASH
ALTER TABLE `orders` /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE REMOVE PARTITIONING;
