INSERT INTO {table} (id, a, b) VALUES (1000 + {n}, {n}, -{n});
UPDATE {table} SET a = a + 1 WHERE id = {n} % 300 + 1;
UPDATE {table} SET b = 0 WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
