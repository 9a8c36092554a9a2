-- mariadb:10.11.0: safe COPY LOCK=SHARED: hash partitions 4 -> 6
ALTER TABLE `orders` ADD PARTITION PARTITIONS 2;
-- reverse: alter table orders: hash partitions 6 -> 4
ALTER TABLE `orders` COALESCE PARTITION 2;
-- mysql:8.0.36: safe INPLACE LOCK=SHARED: hash partitions 4 -> 6
ALTER TABLE `orders` ADD PARTITION PARTITIONS 2;
-- reverse: alter table orders: hash partitions 6 -> 4
ALTER TABLE `orders` COALESCE PARTITION 2;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE ADD PARTITION PARTITIONS 2;
