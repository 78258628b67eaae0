INSERT INTO {table} (id, a, b) VALUES (1000 + {n}, {n}, 1);
UPDATE {table} SET b = b + 1 WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
