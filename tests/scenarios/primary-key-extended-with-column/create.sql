CREATE TABLE gh_test (
  id INT NOT NULL,
  a INT NOT NULL,
  b INT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ab_uk (a, b)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 20, seq FROM seq_1_to_400;
