-- mariadb:10.11.0: safe INSTANT LOCK=NONE: creates function total
CREATE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
-- reverse: drop function total
DROP FUNCTION `total`;
-- mysql:8.0.36: safe INSTANT LOCK=NONE: creates function total
CREATE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
-- reverse: drop function total
DROP FUNCTION `total`;
-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:
CREATE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
