CREATE TABLE m (id int) ENGINE=MERGE UNION=(other.t);
