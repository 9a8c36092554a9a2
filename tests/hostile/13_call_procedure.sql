CREATE TABLE keep1 (id int);
CALL other.wipe();
