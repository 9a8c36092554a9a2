SET NAMES gbk;
CREATE TABLE g (c varchar(10));
