CREATE TABLE gh_test (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  body MEDIUMTEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO gh_test SELECT seq, CONCAT('emoji 😀 ', seq), CONCAT('𝄞 music, 𠜎 cjk ext-b, 🏳️‍🌈 zwj ', seq) FROM seq_1_to_300;
