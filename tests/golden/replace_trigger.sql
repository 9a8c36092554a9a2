-- mariadb:10.11.0: safe INSTANT LOCK=NONE: replaces trigger orders_bi
CREATE OR REPLACE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = UPPER(TRIM(NEW.name));
-- reverse: replace trigger orders_bi on orders
CREATE OR REPLACE TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.name = TRIM(NEW.name);
-- mysql:8.0.36: never emitted; the diff emits DROP + CREATE adjacent
