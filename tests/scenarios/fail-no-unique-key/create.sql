CREATE TABLE gh_test (
  a INT NOT NULL,
  b VARCHAR(20) NOT NULL,
  KEY a_idx (a)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq % 50, CONCAT('v', seq) FROM seq_1_to_200;
