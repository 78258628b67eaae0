INSERT INTO {table} (id, name) VALUES (1000 + {n}, CONCAT('x', {n}));
