-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops trigger orders_bi
DROP TRIGGER `orders_bi`;
-- reverse: create trigger orders_bi on orders
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = TRIM(NEW.name);
-- mysql:8.0.36: safe INSTANT LOCK=NONE: drops trigger orders_bi
DROP TRIGGER `orders_bi`;
-- reverse: create trigger orders_bi on orders
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = TRIM(NEW.name);
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
DROP TRIGGER IF EXISTS `orders_bi`;
