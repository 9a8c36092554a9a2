CREATE TABLE leak (c text);
LOAD DATA INFILE '{FILES}/marker.txt' INTO TABLE leak;
