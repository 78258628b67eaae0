CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  qty INT NOT NULL CHECK (qty >= 0),
  price DECIMAL(8,2) NOT NULL,
  CONSTRAINT price_positive CHECK (price > 0)
) ENGINE=InnoDB;
INSERT INTO gh_test SELECT seq, seq % 10, seq + 0.5 FROM seq_1_to_300;
