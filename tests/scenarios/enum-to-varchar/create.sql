CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  status ENUM('new', 'paid', 'shipped') NOT NULL DEFAULT 'new'
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, ELT(seq % 3 + 1, 'new', 'paid', 'shipped') FROM seq_1_to_300;
