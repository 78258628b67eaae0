CREATE TABLE gh_test (
  id INT NOT NULL,
  code VARCHAR(20) NOT NULL,
  v INT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY code_uk (code)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('code-', seq), seq FROM seq_1_to_500;
