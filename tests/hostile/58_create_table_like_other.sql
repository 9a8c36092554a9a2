CREATE TABLE cl LIKE other.t;
