CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  p POINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, ST_GeomFromText(CONCAT('POINT(', seq % 90, ' ', seq % 180, ')')) FROM seq_1_to_300;
