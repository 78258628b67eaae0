DELETE FROM {table} WHERE id = 1;
INSERT INTO {table} (id, counter, v) VALUES (1, {n}, CONCAT('again ', {n}));
