-- mariadb:10.11.0: safe INSTANT LOCK=EXCLUSIVE: renames table orders to purchases
RENAME TABLE `orders` TO `purchases`;
-- reverse: rename table purchases to orders
RENAME TABLE `purchases` TO `orders`;
-- mysql:8.0.36: safe INSTANT LOCK=EXCLUSIVE: renames table orders to purchases
RENAME TABLE `orders` TO `purchases`;
-- reverse: rename table purchases to orders
RENAME TABLE `purchases` TO `orders`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
RENAME TABLE `orders` TO `purchases`;
