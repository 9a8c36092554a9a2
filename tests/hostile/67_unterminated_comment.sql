CREATE TABLE u (id int);
/* never closed
DROP DATABASE other;
