-- mariadb:10.11.0: safe INPLACE LOCK=SHARED: adds index ft_name
ALTER TABLE `orders` ADD FULLTEXT KEY `ft_name` (`name`);
-- reverse: alter table orders: drop index ft_name
ALTER TABLE `orders` DROP INDEX `ft_name`;
-- mysql:8.0.36: safe INPLACE LOCK=SHARED: adds index ft_name
ALTER TABLE `orders` ADD FULLTEXT KEY `ft_name` (`name`);
-- reverse: alter table orders: drop index ft_name
ALTER TABLE `orders` DROP INDEX `ft_name`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD FULLTEXT KEY `ft_name` (`name`), ALGORITHM=INPLACE, LOCK=NONE;
