CREATE TABLE keep1 (id int);
TRUNCATE other.x;
