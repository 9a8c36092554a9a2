CREATE TABLE fed (id int) ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1:1/other/t';
