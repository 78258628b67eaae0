INSERT INTO {table} (id, email) VALUES (1000 + {n}, CONCAT('new', {n}, '@example.com'));
UPDATE {table} SET email = CONCAT('upd', {n}, '@example.com') WHERE id = {n} % 100 + 1;
