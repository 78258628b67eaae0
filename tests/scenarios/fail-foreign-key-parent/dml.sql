INSERT INTO {table} (id, v) VALUES (1000 + {n}, CONCAT('new ', {n}));
UPDATE {table} SET v = CONCAT('upd ', {n}) WHERE id = {n} % 200 + 1;
