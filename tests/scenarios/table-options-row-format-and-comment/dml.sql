INSERT INTO {table} (id, v) VALUES (1000 + {n}, {n});
UPDATE {table} SET v = v + 1 WHERE id = {n} % 300 + 1;
