CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  doc JSON NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, JSON_OBJECT('id', seq, 'name', CONCAT('ñame ', seq), 'tags', JSON_ARRAY('a', seq, NULL, TRUE), 'nested', JSON_OBJECT('k', 'v 😀', 'n', seq / 3)) FROM seq_1_to_300;
INSERT INTO gh_test VALUES (1000, '{}'), (1001, '[]'), (1002, 'null'), (1003, NULL), (1004, '"a string with \\"quotes\\" and \\\\ backslash"'), (1005, '123.456e10');
