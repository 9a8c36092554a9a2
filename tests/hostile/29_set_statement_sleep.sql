CREATE TABLE keep1 (id int);
SET STATEMENT max_statement_time=0 FOR SELECT SLEEP(100);
