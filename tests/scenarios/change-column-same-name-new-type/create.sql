CREATE TABLE gh_test (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  v INT NOT NULL DEFAULT 0,
  name VARCHAR(64) NULL,
  note TEXT NULL,
  KEY v_idx (v)
) ENGINE=InnoDB;
INSERT INTO gh_test (id, v, name, note) SELECT seq, seq % 97, CONCAT('name ', seq), IF(seq % 5 = 0, NULL, REPEAT('n', seq % 50)) FROM seq_1_to_500;
