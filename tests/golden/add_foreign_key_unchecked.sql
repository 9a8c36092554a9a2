-- mariadb:10.11.0: data-dependent INPLACE LOCK=NONE: adds foreign key fk_parent with foreign_key_checks=0 once the pre-flight finds no row without a parent in parent, and checks again after
SET SESSION foreign_key_checks = 0;
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE;
SET SESSION foreign_key_checks = 1;
-- reverse: alter table orders: drop foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- mysql:8.0.36: data-dependent INPLACE LOCK=NONE: adds foreign key fk_parent with foreign_key_checks=0 once the pre-flight finds no row without a parent in parent, and checks again after
SET SESSION foreign_key_checks = 0;
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT;
SET SESSION foreign_key_checks = 1;
-- reverse: alter table orders: drop foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT, ALGORITHM=INPLACE, LOCK=NONE;
