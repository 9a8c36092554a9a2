-- mariadb:10.11.0: safe INSTANT LOCK=NONE: creates trigger orders_bi
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = 'x';
UNLOCK TABLES;
-- reverse: drop trigger orders_bi on orders
LOCK TABLES `orders` WRITE;
DROP TRIGGER `orders_bi`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: creates trigger orders_bi
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = 'x';
UNLOCK TABLES;
-- reverse: drop trigger orders_bi on orders
LOCK TABLES `orders` WRITE;
DROP TRIGGER `orders_bi`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = 'x';
