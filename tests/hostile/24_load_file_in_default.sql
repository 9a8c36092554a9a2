CREATE TABLE leak (c text DEFAULT (LOAD_FILE('{FILES}/marker.txt')));
