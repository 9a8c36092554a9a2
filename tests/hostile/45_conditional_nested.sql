/*!50000 CREATE TABLE n1 (id int) /*!50000 , x int) ; DROP DATABASE other */ */;
