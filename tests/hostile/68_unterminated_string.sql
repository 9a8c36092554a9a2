CREATE TABLE u (c varchar(3) DEFAULT 'x);
DROP DATABASE other;
