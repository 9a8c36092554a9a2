CREATE TABLE keep1 (id int);
/*!5000 DROP DATABASE other */;
