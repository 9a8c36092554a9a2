-- mariadb:10.11.0: safe INSTANT LOCK=EXCLUSIVE: add partition p1 (new, empty)
ALTER TABLE `orders` ADD PARTITION (PARTITION `p1` VALUES LESS THAN (2000) COMMENT = 'it''s new' ENGINE = InnoDB);
-- reverse: alter table orders: drop partition p1
ALTER TABLE `orders` DROP PARTITION `p1`;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: add partition p1 (new, empty)
ALTER TABLE `orders` ADD PARTITION (PARTITION `p1` VALUES LESS THAN (2000) COMMENT = 'it''s new' ENGINE = InnoDB);
-- reverse: alter table orders: drop partition p1
ALTER TABLE `orders` DROP PARTITION `p1`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE ADD PARTITION (PARTITION `p1` VALUES LESS THAN (2000) COMMENT = 'it''s new' ENGINE = InnoDB);
