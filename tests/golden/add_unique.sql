-- mariadb:10.11.0: data-dependent INPLACE LOCK=NONE: adds UNIQUE index uq_name (fails on duplicate rows)
ALTER TABLE `orders` ADD UNIQUE KEY `uq_name` (`name`);
-- reverse: alter table orders: drop index uq_name
ALTER TABLE `orders` DROP INDEX `uq_name`;
-- mysql:8.0.36: data-dependent INPLACE LOCK=NONE: adds UNIQUE index uq_name (fails on duplicate rows)
ALTER TABLE `orders` ADD UNIQUE KEY `uq_name` (`name`);
-- reverse: alter table orders: drop index uq_name
ALTER TABLE `orders` DROP INDEX `uq_name`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD UNIQUE KEY `uq_name` (`name`), ALGORITHM=INPLACE, LOCK=NONE;
