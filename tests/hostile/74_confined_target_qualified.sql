CREATE TABLE prod.newt (id int PRIMARY KEY);
CREATE TABLE c2 (id int, FOREIGN KEY (id) REFERENCES `prod` . /**/ `newt` (id));
