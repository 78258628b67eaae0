CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  code INT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  short_text VARCHAR(100) NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq * 7, seq / 3, REPEAT('s', seq % 100) FROM seq_1_to_400;
