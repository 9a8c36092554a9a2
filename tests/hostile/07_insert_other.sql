CREATE TABLE keep1 (id int);
INSERT INTO other.t VALUES (99, 'inserted');
