INSERT INTO {table} (code, v) VALUES (1000 + {n}, 'new');
INSERT INTO {table} (code, v) VALUES (NULL, CONCAT('null ', {n}));
