CREATE TABLE gh_test (
  id INT NOT NULL,
  kind ENUM('zz', 'aa', 'mm') NOT NULL,
  v INT NOT NULL,
  PRIMARY KEY (id, kind)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq DIV 3, ELT(seq % 3 + 1, 'zz', 'aa', 'mm'), seq FROM seq_1_to_600;
