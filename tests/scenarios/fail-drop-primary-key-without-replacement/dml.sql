INSERT INTO {table} (id, v) VALUES (1000 + {n}, {n});
