-- mariadb:10.11.0: safe INSTANT LOCK=NONE: adds column seq
ALTER TABLE `orders` ADD COLUMN `seq` bigint(20) NOT NULL FIRST;
-- reverse: alter table orders: drop column seq
ALTER TABLE `orders` DROP COLUMN `seq`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: adds column seq
ALTER TABLE `orders` ADD COLUMN `seq` bigint(20) NOT NULL FIRST;
-- reverse: alter table orders: drop column seq
ALTER TABLE `orders` DROP COLUMN `seq`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD COLUMN `seq` bigint(20) NOT NULL FIRST, ALGORITHM=INPLACE, LOCK=NONE;
