CREATE TABLE gh_test (
  code INT NULL,
  v VARCHAR(20) NOT NULL,
  UNIQUE KEY code_uk (code)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, CONCAT('v', seq) FROM seq_1_to_200;
INSERT INTO gh_test VALUES (NULL, 'null one'), (NULL, 'null two');
