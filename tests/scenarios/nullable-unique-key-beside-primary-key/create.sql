CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  code VARCHAR(20) NULL,
  v INT NOT NULL,
  UNIQUE KEY code_uk (code)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, IF(seq % 4 = 0, NULL, CONCAT('c', seq)), seq FROM seq_1_to_500;
