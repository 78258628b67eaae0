CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  KEY name_idx (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gh_test SELECT seq, IF(seq % 2 = 0, CONCAT('ABC ', seq % 10), CONCAT('abc ', seq % 10)) FROM seq_1_to_300;
