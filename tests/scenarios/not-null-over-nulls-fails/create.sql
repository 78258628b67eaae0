CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  v INT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, IF(seq % 97 = 0, NULL, seq) FROM seq_1_to_500;
