-- mariadb:10.11.0: safe INPLACE LOCK=SHARED: reorganize partition pmax into p1, pmax (copies only the rows of pmax)
ALTER TABLE `orders` REORGANIZE PARTITION `pmax` INTO (PARTITION `p1` VALUES LESS THAN (2000) ENGINE = InnoDB, PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
-- reverse: alter table orders: reorganize partition p1, pmax into pmax
ALTER TABLE `orders` REORGANIZE PARTITION `p1`, `pmax` INTO (PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
-- mysql:8.0.36: safe INPLACE LOCK=SHARED: reorganize partition pmax into p1, pmax (copies only the rows of pmax)
ALTER TABLE `orders` REORGANIZE PARTITION `pmax` INTO (PARTITION `p1` VALUES LESS THAN (2000) ENGINE = InnoDB, PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
-- reverse: alter table orders: reorganize partition p1, pmax into pmax
ALTER TABLE `orders` REORGANIZE PARTITION `p1`, `pmax` INTO (PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE REORGANIZE PARTITION `pmax` INTO (PARTITION `p1` VALUES LESS THAN (2000) ENGINE = InnoDB, PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
