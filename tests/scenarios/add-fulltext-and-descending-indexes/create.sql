CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  v INT NOT NULL,
  body TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gh_test SELECT seq, seq % 50, CONCAT('the quick brown fox ', seq, ' jumps') FROM seq_1_to_400;
