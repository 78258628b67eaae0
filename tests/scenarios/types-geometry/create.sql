CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  g GEOMETRY NULL,
  p POINT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, ST_GeomFromText(CONCAT('LINESTRING(0 0, ', seq, ' ', seq / 3, ')')), ST_GeomFromText(CONCAT('POINT(', seq, ' -', seq, ')')) FROM seq_1_to_300;
INSERT INTO gh_test VALUES (1000, NULL, NULL), (1001, ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))'), ST_GeomFromText('POINT(0 0)', 4326));
