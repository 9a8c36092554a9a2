-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- reverse: alter table orders: add foreign key fk_parent -> parent
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: drops foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- reverse: alter table orders: add foreign key fk_parent -> parent
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`, ALGORITHM=INPLACE, LOCK=NONE;
