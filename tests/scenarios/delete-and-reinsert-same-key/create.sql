CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  v INT NOT NULL,
  note VARCHAR(30) NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq, 'seed' FROM seq_1_to_500;
