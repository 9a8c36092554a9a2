CREATE TABLE keep1 (id int);
SET @s = CONCAT('DROP DATABASE ', 'other');
PREPARE st FROM @s;
EXECUTE st;
