INSERT INTO {table} (id, c1, c2) VALUES (1000 + {n}, {n}, CONCAT('inserted ', {n}));
UPDATE {table} SET c1 = c1 + 1, c2 = CONCAT('upd ', {n}) WHERE id = ({n} * 7) % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
