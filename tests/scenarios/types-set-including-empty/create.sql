CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  tags SET('a', 'b', 'c', 'd', 'é') NOT NULL DEFAULT '',
  opt SET('x', 'y') NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 32, ELT(seq % 4 + 1, '', 'x', 'x,y', NULL) FROM seq_1_to_300;
