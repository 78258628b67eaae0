CREATE TABLE gh_test (
  slug VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL PRIMARY KEY,
  v INT NOT NULL
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT CONCAT(ELT(seq % 4 + 1, 'émoji-😀-', 'straße-', 'ñandú-', '日本-'), seq), seq FROM seq_1_to_400;
