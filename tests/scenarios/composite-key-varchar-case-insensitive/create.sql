CREATE TABLE gh_test (
  tenant VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  v INT NOT NULL,
  PRIMARY KEY (tenant, name)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT CONCAT('t', seq % 5), CONCAT('Name-', seq), seq FROM seq_1_to_500;
