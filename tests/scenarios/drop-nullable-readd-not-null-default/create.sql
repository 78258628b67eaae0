CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  c1 INT NULL,
  c2 INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, IF(seq % 3 = 0, NULL, seq), seq * 2 FROM seq_1_to_300;
