CREATE TABLE gh_test (
  `id` INT NOT NULL PRIMARY KEY,
  `first name` VARCHAR(30) NOT NULL,
  `n` INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gh_test SELECT seq, CONCAT('Ünïcode ', seq), seq FROM seq_1_to_400;
