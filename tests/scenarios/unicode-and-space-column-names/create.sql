CREATE TABLE gh_test (
  `id` INT NOT NULL PRIMARY KEY,
  `first name` VARCHAR(30) NOT NULL,
  `naïve café` INT NULL,
  `列名` VARCHAR(20) NULL,
  `a``quote` INT NULL,
  `Ω-dash.dot` INT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gh_test SELECT seq, CONCAT('First ', seq), seq, CONCAT('值', seq), seq * 2, -seq FROM seq_1_to_400;
