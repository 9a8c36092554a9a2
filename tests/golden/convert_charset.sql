-- mariadb:10.11.0: safe COPY LOCK=SHARED: converts every string column latin1 -> utf8mb4
ALTER TABLE `orders` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
-- reverse: alter table orders: change table options
ALTER TABLE `orders` CONVERT TO CHARACTER SET latin1 COLLATE latin1_swedish_ci;
-- mysql:8.0.36: safe COPY LOCK=SHARED: converts every string column latin1 -> utf8mb4
ALTER TABLE `orders` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
-- reverse: alter table orders: change table options
ALTER TABLE `orders` CONVERT TO CHARACTER SET latin1 COLLATE latin1_swedish_ci;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, ALGORITHM=INPLACE, LOCK=NONE;
