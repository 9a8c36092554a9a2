CREATE TABLE keep1 (id int);
CREATE ROLE evil_role;
