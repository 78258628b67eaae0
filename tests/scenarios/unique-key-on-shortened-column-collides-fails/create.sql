CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  UNIQUE KEY name_uk (name)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('user ', seq) FROM seq_1_to_300;
INSERT INTO gh_test VALUES (1001, 'John Smith'), (1002, 'John Travolta');
