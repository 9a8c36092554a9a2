CREATE TABLE `other` /**/ . /* x */ `t2` (id int);
