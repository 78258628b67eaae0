INSERT INTO {table} (id, body) VALUES (1000 + {n}, CONCAT('new ', {n}));
UPDATE {table} SET body = CONCAT('changed ', {n}) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
