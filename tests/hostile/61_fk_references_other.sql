CREATE TABLE child (id int, t_id int, FOREIGN KEY (t_id) REFERENCES other.t (id));
