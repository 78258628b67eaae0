CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  a VARCHAR(20) CHARACTER SET ascii NULL,
  KEY name_idx (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;
INSERT INTO gh_test SELECT seq, CONCAT('Γειά σου ', seq, ' こんにちは ✓'), 'ascii' FROM seq_1_to_400;
