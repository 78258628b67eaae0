INSERT INTO {table} (id, i, v) VALUES (1000 + {n}, 9000 + {n}, {n});
