CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  v VARCHAR(20) NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('row ', seq) FROM seq_1_to_200;
CREATE TABLE gh_child (
  id INT NOT NULL PRIMARY KEY,
  test_id INT NOT NULL,
  CONSTRAINT gh_child_test_fk FOREIGN KEY (test_id) REFERENCES gh_test (id)
) ENGINE=InnoDB;
INSERT INTO gh_child SELECT seq, seq FROM seq_1_to_20;
