USE prod;
CREATE TABLE keep1 (id int);
USE other;
DROP TABLE IF EXISTS t;
