INSERT INTO {table} (id, email, nick) VALUES (1000 + {n}, CONCAT('new', {n}, '@example.com'), NULL);
UPDATE {table} SET email = CONCAT('changed', {n}, '@example.com') WHERE id = {n} % 500 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 500 + 1;
