INSERT INTO {table} (id, a, b) VALUES (1000 + {n}, {n}, {n} % 7);
UPDATE {table} SET a = a * 2 WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
