CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  email VARCHAR(64) NOT NULL,
  nick VARCHAR(20) NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('user', seq, '@example.com'), IF(seq % 3 = 0, NULL, CONCAT('nick', seq)) FROM seq_1_to_500;
