CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  v INT NOT NULL,
  secret VARCHAR(20) INVISIBLE NULL
) ENGINE=InnoDB;
INSERT INTO gh_test (id, v, secret) SELECT seq, seq, CONCAT('hidden ', seq) FROM seq_1_to_300;
