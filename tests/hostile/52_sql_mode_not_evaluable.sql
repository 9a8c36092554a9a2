CREATE TABLE keep1 (id int);
SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES');
