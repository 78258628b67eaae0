CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  c CHAR(10) CHARACTER SET latin1 NULL,
  vc VARCHAR(200) CHARACTER SET latin1 NULL,
  t TEXT CHARACTER SET latin1 NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
-- one row per byte 0x80..0xFF, alone and inside text
INSERT INTO gh_test SELECT seq, CONVERT(UNHEX(HEX(seq)) USING latin1),
  CONCAT('a', CONVERT(UNHEX(HEX(seq)) USING latin1), 'z'),
  REPEAT(CONVERT(UNHEX(HEX(seq)) USING latin1), 3)
  FROM seq_128_to_255;
-- the bytes cp1252 leaves undefined
INSERT INTO gh_test VALUES (1, _latin1 x'818D8F909D', _latin1 x'41818D8F909D42', _latin1 x'818D8F909D818D8F909D'),
  (2, _latin1 x'E9E8EA', _latin1 x'4361666CE9', _latin1 x'809FA0FF'),
  (3, NULL, NULL, NULL);
