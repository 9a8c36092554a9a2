-- mariadb:10.11.0: data-dependent COPY LOCK=SHARED: adds foreign key fk_parent (fails on rows without a parent in parent)
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE;
-- reverse: alter table orders: drop foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- mysql:8.0.36: data-dependent COPY LOCK=SHARED: adds foreign key fk_parent (fails on rows without a parent in parent)
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT;
-- reverse: alter table orders: drop foreign key fk_parent
ALTER TABLE `orders` DROP FOREIGN KEY `fk_parent`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT, ALGORITHM=INPLACE, LOCK=NONE;
