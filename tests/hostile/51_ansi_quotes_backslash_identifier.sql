SET sql_mode = 'ANSI_QUOTES';
CREATE TABLE "a\" (x int); DROP DATABASE other; -- " (id int);
