CREATE TABLE keep1 (id int);
SELECT LOAD_FILE('{FILES}/marker.txt');
