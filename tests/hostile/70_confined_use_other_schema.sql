USE other;
CREATE TABLE keep1 (id int);
DROP TABLE IF EXISTS t;
