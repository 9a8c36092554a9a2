-- mariadb:10.11.0: safe COPY LOCK=SHARED: column parent_id: int(11) -> bigint(20) widens the integer (rows are rewritten)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` bigint(20) DEFAULT NULL;
-- reverse: alter table orders: modify column parent_id bigint(20) -> int(11)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) DEFAULT NULL;
-- mysql:8.0.36: safe COPY LOCK=SHARED: column parent_id: int(11) -> bigint(20) widens the integer (rows are rewritten)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` bigint(20) DEFAULT NULL;
-- reverse: alter table orders: modify column parent_id bigint(20) -> int(11)
ALTER TABLE `orders` MODIFY COLUMN `parent_id` int(11) DEFAULT NULL;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` MODIFY COLUMN `parent_id` bigint(20) DEFAULT NULL, ALGORITHM=INPLACE, LOCK=NONE;
