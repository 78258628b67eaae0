CREATE TABLE gh_test (
  id INT NOT NULL,
  v INT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq FROM seq_1_to_400;
