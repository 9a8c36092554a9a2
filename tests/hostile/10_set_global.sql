CREATE TABLE keep1 (id int);
SET GLOBAL max_connections = 10;
