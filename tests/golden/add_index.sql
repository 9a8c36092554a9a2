-- mariadb:10.11.0: safe INPLACE LOCK=NONE: adds index ix_name
ALTER TABLE `orders` ADD KEY `ix_name` (`name`(10));
-- reverse: alter table orders: drop index ix_name
ALTER TABLE `orders` DROP INDEX `ix_name`;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: adds index ix_name
ALTER TABLE `orders` ADD KEY `ix_name` (`name`(10));
-- reverse: alter table orders: drop index ix_name
ALTER TABLE `orders` DROP INDEX `ix_name`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD KEY `ix_name` (`name`(10)), ALGORITHM=INPLACE, LOCK=NONE;
