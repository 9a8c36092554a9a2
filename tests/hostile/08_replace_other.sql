CREATE TABLE keep1 (id int);
REPLACE INTO other.t VALUES (1, 'replaced');
