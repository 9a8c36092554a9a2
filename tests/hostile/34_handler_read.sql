CREATE TABLE keep1 (id int);
HANDLER other.t OPEN;
