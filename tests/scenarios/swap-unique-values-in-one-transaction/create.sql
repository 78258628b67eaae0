CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  slot INT NOT NULL,
  UNIQUE KEY slot_uk (slot)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq FROM seq_1_to_400;
