CREATE TABLE gh_test (
  `id` INT NOT NULL PRIMARY KEY,
  `order` INT NOT NULL,
  `key` VARCHAR(20) NOT NULL,
  `select` VARCHAR(20) NULL,
  `from` DATE NULL,
  `group` INT NULL,
  UNIQUE KEY `index` (`key`)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 10, CONCAT('k', seq), 'sel', '2020-01-01', seq % 3 FROM seq_1_to_400;
