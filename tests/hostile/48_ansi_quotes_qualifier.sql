SET sql_mode = 'ANSI_QUOTES';
CREATE TABLE "other"."t3" (id int);
