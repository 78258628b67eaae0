CREATE TABLE gh_test (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  v INT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
INSERT INTO gh_test (v) SELECT seq FROM seq_1_to_500;
-- the counter stays at 501 while the highest id is 450: the ghost must not restart at 451
DELETE FROM gh_test WHERE id > 450;
