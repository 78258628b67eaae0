INSERT INTO {table} (id, c2) VALUES (1000 + {n}, {n});
UPDATE {table} SET c2 = c2 + 1 WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
