CREATE TABLE keep1 (id int);
/*!50000 DROP DATABASE other */;
