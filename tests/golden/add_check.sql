-- mariadb:10.11.0: data-dependent COPY LOCK=SHARED: adds CHECK chk_name (fails on violating rows)
ALTER TABLE `orders` ADD CONSTRAINT `chk_name` CHECK (`name` <> '');
-- reverse: alter table orders: drop check chk_name
ALTER TABLE `orders` DROP CONSTRAINT `chk_name`;
-- mysql:8.0.36: data-dependent COPY LOCK=SHARED: adds CHECK chk_name (fails on violating rows)
ALTER TABLE `orders` ADD CONSTRAINT `chk_name` CHECK (`name` <> '');
-- reverse: alter table orders: drop check chk_name
ALTER TABLE `orders` DROP CHECK `chk_name`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD CONSTRAINT `chk_name` CHECK (`name` <> ''), ALGORITHM=INPLACE, LOCK=NONE;
