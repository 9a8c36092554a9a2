CREATE TABLE a (id int);
RENAME TABLE a TO b, other.t TO s;
