-- mysql:8.0.36: index changes under foreign keys
-- customers: safe INPLACE LOCK=NONE
ALTER TABLE `customers` DROP INDEX `ux_code`, ADD KEY `ux_code` (`code`,`id`);
-- orders: safe INPLACE LOCK=NONE
ALTER TABLE `orders` DROP INDEX `ix_customer`, ADD KEY `ix_customer` (`customer_id`,`created`);
-- lines: safe INPLACE LOCK=NONE
ALTER TABLE `lines` DROP INDEX `ix_order`, ADD KEY `ix_order_id` (`order_id`,`id`);
-- refs: safe INPLACE LOCK=NONE
ALTER TABLE `refs` DROP INDEX `ix_code`;
