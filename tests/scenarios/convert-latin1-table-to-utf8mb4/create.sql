CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(60) NOT NULL,
  body TEXT NULL,
  code CHAR(4) CHARACTER SET ascii NOT NULL DEFAULT 'abcd'
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
INSERT INTO gh_test (id, name, body) SELECT seq, CONCAT('Café crème ', seq), CONCAT(CONVERT(UNHEX(HEX(128 + seq % 128)) USING latin1), ' ñ ', seq) FROM seq_1_to_300;
