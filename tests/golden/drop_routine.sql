-- mariadb:10.11.0: safe INSTANT LOCK=NONE: drops function total
DROP FUNCTION `total`;
-- reverse: create function total
CREATE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: drops function total
DROP FUNCTION `total`;
-- reverse: create function total
CREATE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
DROP FUNCTION IF EXISTS `total`;
