CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  a INT NOT NULL,
  b INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq, seq * 3 FROM seq_1_to_300;
