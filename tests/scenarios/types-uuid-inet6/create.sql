CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  u UUID NULL,
  ip INET6 NULL
) ENGINE=InnoDB;
INSERT INTO gh_test VALUES
  (1, '00000000-0000-0000-0000-000000000000', '::'),
  (2, 'ffffffff-ffff-ffff-ffff-ffffffffff00', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00'),
  (3, NULL, NULL);
INSERT INTO gh_test SELECT seq, CONCAT('12345678-1234-1234-1234-', LPAD(HEX(seq), 10, '0'), '00'), CONCAT('2001:db8::', HEX(seq), ':0') FROM seq_4_to_300;
