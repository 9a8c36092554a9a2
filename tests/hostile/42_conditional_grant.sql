CREATE TABLE keep1 (id int);
/*!40000 GRANT ALL ON *.* TO app@'%' */;
