-- mariadb:10.11.0: data-dependent INPLACE LOCK=NONE: column parent_id becomes NOT NULL (fails or converts existing NULLs)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) NOT NULL;
-- reverse: alter table orders: modify column parent_id int(11): NOT NULL -> NULL
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) DEFAULT NULL;
-- mysql:8.0.36: data-dependent INPLACE LOCK=NONE: column parent_id becomes NOT NULL (fails or converts existing NULLs)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) NOT NULL;
-- reverse: alter table orders: modify column parent_id int(11): NOT NULL -> NULL
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) DEFAULT NULL;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
