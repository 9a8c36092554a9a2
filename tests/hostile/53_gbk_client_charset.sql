SET NAMES gbk;
CREATE TABLE g (c varchar(10) DEFAULT '縗\'); DROP DATABASE other; -- ');
