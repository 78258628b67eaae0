CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  i INT NULL,
  d DECIMAL(10,2) NULL,
  f DOUBLE NULL,
  s VARCHAR(20) NULL,
  t TEXT NULL,
  b VARBINARY(20) NULL,
  e ENUM('a', 'b') NULL,
  st SET('a', 'b') NULL,
  j JSON NULL,
  dt DATETIME(6) NULL,
  ts TIMESTAMP(6) NULL DEFAULT NULL,
  y YEAR NULL,
  bt BIT(5) NULL
) ENGINE=InnoDB;
INSERT INTO gh_test (id) SELECT seq FROM seq_1_to_150;
INSERT INTO gh_test SELECT seq, seq, seq / 4, seq / 3, '', '', x'', 'a', '', '{}', '2020-01-01', '2020-01-01 00:00:00', 2020, 0 FROM seq_151_to_300;
