CREATE TABLE keep1 (id int);
/*M!100000 DELETE FROM other.t */;
