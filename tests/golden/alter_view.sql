-- mariadb:10.11.0: safe INSTANT LOCK=NONE: replaces view v_orders
CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`name` AS `name` from `orders`;
-- reverse: replace view v_orders
CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: replaces view v_orders
CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`name` AS `name` from `orders`;
-- reverse: replace view v_orders
CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`id` AS `id` from `orders`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_orders` AS select `orders`.`name` AS `name` from `orders`;
