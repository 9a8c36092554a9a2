CREATE TABLE keep1 (id int);
LOCK TABLES other.t WRITE;
