-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops event purge
DROP EVENT `purge`;
-- reverse: create event purge
CREATE EVENT `purge` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'nightly' DO DELETE FROM orders WHERE id < 0;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: drops event purge
DROP EVENT `purge`;
-- reverse: create event purge
CREATE EVENT `purge` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'nightly' DO DELETE FROM orders WHERE id < 0;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
DROP EVENT IF EXISTS `purge`;
