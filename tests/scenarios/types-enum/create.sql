CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  color ENUM('red', 'green', 'blue', 'ÿellow', '') NOT NULL DEFAULT 'red',
  size ENUM('s', 'm', 'l') NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, ELT(seq % 5 + 1, 'red', 'green', 'blue', 'ÿellow', ''), ELT(seq % 4 + 1, 's', 'm', 'l', NULL) FROM seq_1_to_300;
