-- mariadb:10.11.0: safe COPY LOCK=SHARED: adds STORED generated column total; column total: generated column re-created as STORED generated
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) STORED AFTER `id`;
-- reverse: alter table orders: re-create column total as VIRTUAL generated
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL AFTER `id`;
-- mysql:8.0.36: safe COPY LOCK=SHARED: adds STORED generated column total; column total: generated column re-created as STORED generated
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) STORED AFTER `id`;
-- reverse: alter table orders: re-create column total as VIRTUAL generated
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL AFTER `id`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) STORED AFTER `id`, ALGORITHM=INPLACE, LOCK=NONE;
