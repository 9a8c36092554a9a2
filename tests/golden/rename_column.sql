-- mariadb:10.11.0: safe INSTANT LOCK=NONE: renames column name to title
ALTER TABLE `orders` RENAME COLUMN `name` TO `title`;
-- reverse: alter table orders: rename column title to name
ALTER TABLE `orders` RENAME COLUMN `title` TO `name`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: renames column name to title
ALTER TABLE `orders` RENAME COLUMN `name` TO `title`;
-- reverse: alter table orders: rename column title to name
ALTER TABLE `orders` RENAME COLUMN `title` TO `name`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` RENAME COLUMN `name` TO `title`, ALGORITHM=INPLACE, LOCK=NONE;
