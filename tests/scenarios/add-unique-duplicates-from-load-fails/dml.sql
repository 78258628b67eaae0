-- every insert repeats an existing address: the new unique key cannot hold
INSERT INTO {table} (id, email) VALUES (1000 + {n}, CONCAT('user', {n} % 500 + 1, '@example.com'));
