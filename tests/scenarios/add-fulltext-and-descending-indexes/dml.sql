INSERT INTO {table} (id, v, body) VALUES (1000 + {n}, {n} % 50, CONCAT('lazy dog ', {n}));
UPDATE {table} SET body = CONCAT(body, ' again') WHERE id = {n} % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
