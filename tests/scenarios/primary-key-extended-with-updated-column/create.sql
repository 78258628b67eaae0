CREATE TABLE gh_test (
  id INT NOT NULL,
  a INT NOT NULL,
  b INT NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 20, seq FROM seq_1_to_400;
