CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  qty INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 100 FROM seq_1_to_500;
UPDATE gh_test SET qty = 300 WHERE id = 250;
