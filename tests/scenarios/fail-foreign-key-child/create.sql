CREATE TABLE gh_parent (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO gh_parent SELECT seq FROM seq_1_to_10;
CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  parent_id INT NOT NULL,
  CONSTRAINT gh_test_parent_fk FOREIGN KEY (parent_id) REFERENCES gh_parent (id)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 10 + 1 FROM seq_1_to_200;
