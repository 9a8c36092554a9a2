CREATE TABLE keep1 (id int);
DO SLEEP(100);
