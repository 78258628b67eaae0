INSERT INTO {table} (id, a, b) VALUES (1000 + {n}, {n} % 20, 1000 + {n});
UPDATE {table} SET b = b + 100000 WHERE id = {n} % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
