CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  email VARCHAR(64) NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_500;
