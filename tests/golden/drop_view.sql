-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops view v_orders
DROP VIEW `v_orders`;
-- reverse: create view v_orders
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: drops view v_orders
DROP VIEW `v_orders`;
-- reverse: create view v_orders
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
DROP VIEW IF EXISTS `v_orders`;
