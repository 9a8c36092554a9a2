-- mariadb:10.11.0: data-dependent INPLACE LOCK=NONE: adds PRIMARY KEY (fails on duplicates or NULLs; rebuilds the table)
ALTER TABLE `orders` ADD PRIMARY KEY (`id`);
-- reverse: alter table orders: drop index PRIMARY
ALTER TABLE `orders` DROP PRIMARY KEY;
-- mysql:8.0.36: data-dependent INPLACE LOCK=NONE: adds PRIMARY KEY (fails on duplicates or NULLs; rebuilds the table)
ALTER TABLE `orders` ADD PRIMARY KEY (`id`);
-- reverse: alter table orders: drop index PRIMARY
ALTER TABLE `orders` DROP PRIMARY KEY;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` ADD PRIMARY KEY (`id`), ALGORITHM=INPLACE, LOCK=NONE;
