INSERT INTO {table} (id, c1, c2) VALUES (1000 + {n}, 'new', {n});
