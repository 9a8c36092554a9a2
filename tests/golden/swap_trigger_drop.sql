-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops trigger orders_bi
LOCK TABLES `orders` WRITE;
DROP TRIGGER `orders_bi`;
-- reverse: create trigger orders_bi on orders
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = TRIM(NEW.name);
UNLOCK TABLES;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: drops trigger orders_bi
LOCK TABLES `orders` WRITE;
DROP TRIGGER `orders_bi`;
-- reverse: create trigger orders_bi on orders
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = TRIM(NEW.name);
UNLOCK TABLES;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
DROP TRIGGER IF EXISTS `orders_bi`;
