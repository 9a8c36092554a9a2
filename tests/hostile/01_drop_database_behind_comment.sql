CREATE TABLE keep1 (id int);
DROP /**/ DATABASE other;
