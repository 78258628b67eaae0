CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  a INT NOT NULL,
  b INT NOT NULL,
  sum_ab INT AS (a + b) VIRTUAL
) ENGINE=InnoDB;
INSERT INTO gh_test (id, a, b) SELECT seq, seq, seq * 3 FROM seq_1_to_300;
