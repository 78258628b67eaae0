CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  flag BIT(1) NULL DEFAULT b'0',
  i INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 2, seq FROM seq_1_to_300;
