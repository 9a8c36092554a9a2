-- mariadb:10.11.0: destructive INSTANT LOCK=EXCLUSIVE: drops partition p1 and deletes every row stored in it
ALTER TABLE `orders` DROP PARTITION `p1`;
-- reverse: alter table orders: add partition p1
ALTER TABLE `orders` ADD PARTITION (PARTITION `p1` VALUES LESS THAN (2000) COMMENT = 'it''s new' ENGINE = InnoDB);
-- mysql:8.0.36: destructive INPLACE LOCK=NONE: drops partition p1 and deletes every row stored in it
ALTER TABLE `orders` DROP PARTITION `p1`;
-- reverse: alter table orders: add partition p1
ALTER TABLE `orders` ADD PARTITION (PARTITION `p1` VALUES LESS THAN (2000) COMMENT = 'it''s new' ENGINE = InnoDB);
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ALGORITHM=INPLACE, LOCK=NONE DROP PARTITION `p1`;
