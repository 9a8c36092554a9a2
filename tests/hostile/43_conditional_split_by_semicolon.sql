CREATE TABLE t1 (id int) /*!50000 ; DROP DATABASE other */;
