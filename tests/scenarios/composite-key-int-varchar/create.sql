CREATE TABLE gh_test (
  id INT NOT NULL,
  region VARCHAR(20) NOT NULL,
  v INT NOT NULL,
  PRIMARY KEY (id, region)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq DIV 3, ELT(seq % 3 + 1, 'eu', 'us', 'apac'), seq FROM seq_1_to_900;
