CREATE TABLE /*!50000 other.*/t (id int);
