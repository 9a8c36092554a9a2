CREATE TABLE r (id int);
ALTER TABLE r RENAME TO other.r;
