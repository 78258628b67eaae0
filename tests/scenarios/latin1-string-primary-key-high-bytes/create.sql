CREATE TABLE gh_test (
  code VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL PRIMARY KEY,
  v INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT CONCAT(CONVERT(UNHEX(HEX(seq)) USING latin1), seq), seq FROM seq_128_to_255;
INSERT INTO gh_test VALUES (_latin1 x'81', 1), (_latin1 x'8D', 2), (_latin1 x'8F', 3), (_latin1 x'90', 4), (_latin1 x'9D', 5), (_latin1 x'818D8F909D', 6);
