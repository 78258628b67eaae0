INSERT INTO {table} (id, v, secret) VALUES (1000 + {n}, {n}, CONCAT('new hidden ', {n}));
UPDATE {table} SET secret = CONCAT('upd ', {n}) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
