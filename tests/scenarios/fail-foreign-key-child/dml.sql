INSERT INTO {table} (id, parent_id) VALUES (1000 + {n}, {n} % 10 + 1);
