-- mariadb:10.11.0: safe INSTANT LOCK=NONE: creates view v_orders
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- reverse: drop view v_orders
DROP VIEW `v_orders`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: creates view v_orders
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- reverse: drop view v_orders
DROP VIEW `v_orders`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
