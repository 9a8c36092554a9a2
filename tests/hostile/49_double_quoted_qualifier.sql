CREATE TABLE keep1 (id int, FOREIGN KEY (id) REFERENCES "other".t (id));
