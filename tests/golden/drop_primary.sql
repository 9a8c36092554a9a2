-- mariadb:10.11.0: safe COPY LOCK=SHARED: drops the PRIMARY KEY
ALTER TABLE `orders` DROP PRIMARY KEY;
-- reverse: alter table orders: add primary index PRIMARY
ALTER TABLE `orders` ADD PRIMARY KEY (`id`);
-- mysql:8.0.36: safe COPY LOCK=SHARED: drops the PRIMARY KEY
ALTER TABLE `orders` DROP PRIMARY KEY;
-- reverse: alter table orders: add primary index PRIMARY
ALTER TABLE `orders` ADD PRIMARY KEY (`id`);
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP PRIMARY KEY, ALGORITHM=INPLACE, LOCK=NONE;
