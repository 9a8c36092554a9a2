-- mariadb:10.11.0: safe INSTANT LOCK=NONE: creates event purge
CREATE EVENT `purge` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'nightly' DO DELETE FROM orders WHERE id < 0;
-- reverse: drop event purge
DROP EVENT `purge`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: creates event purge
CREATE EVENT `purge` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'nightly' DO DELETE FROM orders WHERE id < 0;
-- reverse: drop event purge
DROP EVENT `purge`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
CREATE EVENT `purge` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'nightly' DO DELETE FROM orders WHERE id < 0;
