CREATE TABLE keep1 (id int);
INSTALL SONAME 'ha_federatedx';
