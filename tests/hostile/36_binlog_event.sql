CREATE TABLE keep1 (id int);
BINLOG 'AAAA';
