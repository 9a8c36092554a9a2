-- mariadb:10.11.0: safe INPLACE LOCK=NONE: drops index ix_name; queries using it may scan the table (make it IGNORED first to see)
ALTER TABLE `orders` DROP INDEX `ix_name`;
-- reverse: alter table orders: add index ix_name
ALTER TABLE `orders` ADD KEY `ix_name` (`name`);
-- mysql:8.0.36: safe INPLACE LOCK=NONE: drops index ix_name; queries using it may scan the table (make it INVISIBLE first to see)
ALTER TABLE `orders` DROP INDEX `ix_name`;
-- reverse: alter table orders: add index ix_name
ALTER TABLE `orders` ADD KEY `ix_name` (`name`);
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP INDEX `ix_name`, ALGORITHM=INPLACE, LOCK=NONE;
