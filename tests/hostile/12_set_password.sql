CREATE TABLE keep1 (id int);
SET PASSWORD FOR app@'%' = PASSWORD('owned');
