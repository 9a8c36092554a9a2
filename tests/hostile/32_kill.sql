CREATE TABLE keep1 (id int);
KILL 1;
