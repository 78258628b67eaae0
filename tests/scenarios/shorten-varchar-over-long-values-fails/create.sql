CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(64) NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, IF(seq = 333, 'a name far longer than eight', CONCAT('n', seq)) FROM seq_1_to_500;
