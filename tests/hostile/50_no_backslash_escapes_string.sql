SET sql_mode = 'NO_BACKSLASH_ESCAPES';
CREATE TABLE t4 (c varchar(10) DEFAULT 'x\'); DROP DATABASE other; -- ');
