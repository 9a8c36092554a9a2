-- mariadb:10.11.0: safe INSTANT LOCK=NONE: replaces function total
CREATE OR REPLACE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN 2;
-- reverse: replace function total
CREATE OR REPLACE FUNCTION `total`(`x` int) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2;
-- mysql:8.0.36: never emitted; the diff emits DROP + CREATE adjacent
