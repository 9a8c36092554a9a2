-- mariadb:10.11.0: data-dependent COPY LOCK=SHARED: repartitions the table (fails on rows outside every range/list)
ALTER TABLE `orders` PARTITION BY RANGE (`id`)
(PARTITION `p0` VALUES LESS THAN (1000) ENGINE = InnoDB,
 PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
-- reverse: alter table orders: partition by HASH
ALTER TABLE `orders` PARTITION BY HASH (`id`)
PARTITIONS 4;
-- mysql:8.0.36: data-dependent COPY LOCK=SHARED: repartitions the table (fails on rows outside every range/list)
ALTER TABLE `orders` /*!50100 PARTITION BY RANGE (`id`)
(PARTITION p0 VALUES LESS THAN (1000) ENGINE = InnoDB,
 PARTITION pmax VALUES LESS THAN MAXVALUE ENGINE = InnoDB) */;
-- reverse: alter table orders: partition by HASH
ALTER TABLE `orders` /*!50100 PARTITION BY HASH (`id`)
PARTITIONS 4 */;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE /*!50100 PARTITION BY RANGE (`id`)
(PARTITION p0 VALUES LESS THAN (1000) ENGINE = InnoDB,
 PARTITION pmax VALUES LESS THAN MAXVALUE ENGINE = InnoDB) */;
