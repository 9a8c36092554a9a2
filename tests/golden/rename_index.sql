-- mariadb:10.11.0: safe INSTANT LOCK=NONE: renames index ix_a
ALTER TABLE `orders` RENAME INDEX `ix_a` TO `ix_b`;
-- reverse: alter table orders: rename index ix_b to ix_a
ALTER TABLE `orders` RENAME INDEX `ix_b` TO `ix_a`;
-- mysql:8.0.36: safe INPLACE LOCK=NONE: renames index ix_a
ALTER TABLE `orders` RENAME INDEX `ix_a` TO `ix_b`;
-- reverse: alter table orders: rename index ix_b to ix_a
ALTER TABLE `orders` RENAME INDEX `ix_b` TO `ix_a`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` RENAME INDEX `ix_a` TO `ix_b`, ALGORITHM=INPLACE, LOCK=NONE;
