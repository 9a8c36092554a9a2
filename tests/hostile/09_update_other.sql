CREATE TABLE keep1 (id int);
UPDATE other.t SET v = 'updated';
