CREATE TABLE a (id int);
DELETE FROM prod.a;
