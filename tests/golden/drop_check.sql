-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops CHECK chk_name
ALTER TABLE `orders` DROP CONSTRAINT `chk_name`;
-- reverse: alter table orders: add check chk_name
ALTER TABLE `orders` ADD CONSTRAINT `chk_name` CHECK (`name` <> '');
-- mysql:8.0.36: safe INPLACE LOCK=NONE: drops CHECK chk_name
ALTER TABLE `orders` DROP CHECK `chk_name`;
-- reverse: alter table orders: add check chk_name
ALTER TABLE `orders` ADD CONSTRAINT `chk_name` CHECK (`name` <> '');
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP CHECK `chk_name`, ALGORITHM=INPLACE, LOCK=NONE;
