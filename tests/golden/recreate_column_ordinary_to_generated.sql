-- mariadb:10.11.0: destructive INSTANT LOCK=NONE: adds column total; column total becomes generated: its stored values are replaced
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL AFTER `id`;
-- reverse: alter table orders: re-create column total as an ordinary column
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) DEFAULT NULL AFTER `id`;
-- mysql:8.0.36: destructive INSTANT LOCK=NONE: adds column total; column total becomes generated: its stored values are replaced
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL AFTER `id`;
-- reverse: alter table orders: re-create column total as an ordinary column
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) DEFAULT NULL AFTER `id`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
ALTER TABLE `orders` DROP COLUMN `total`, ADD COLUMN `total` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL AFTER `id`, ALGORITHM=INPLACE, LOCK=NONE;
