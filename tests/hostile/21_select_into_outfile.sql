CREATE TABLE keep1 (id int);
SELECT * FROM other.t INTO OUTFILE '{FILES}/leak.txt';
