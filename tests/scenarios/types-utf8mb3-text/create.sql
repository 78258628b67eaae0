CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(100) CHARACTER SET utf8mb3 NOT NULL,
  body TEXT CHARACTER SET utf8mb3 NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;
INSERT INTO gh_test SELECT seq, CONCAT('Ελληνικά ', seq), CONCAT('日本語のテキスト ', seq, ' ñ ü ß € ₹') FROM seq_1_to_300;
