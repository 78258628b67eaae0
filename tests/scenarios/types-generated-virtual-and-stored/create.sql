CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  a INT NOT NULL,
  b INT NOT NULL,
  sum_ab INT AS (a + b) VIRTUAL,
  label VARCHAR(40) AS (CONCAT('row-', id, '-', a)) STORED,
  KEY sum_idx (sum_ab)
) ENGINE=InnoDB;
INSERT INTO gh_test (id, a, b) SELECT seq, seq, seq * 2 FROM seq_1_to_300;
