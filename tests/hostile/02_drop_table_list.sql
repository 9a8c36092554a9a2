CREATE TABLE keep1 (id int);
DROP TABLE a2, prod.a;
