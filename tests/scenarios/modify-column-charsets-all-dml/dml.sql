INSERT INTO {table} (id, t1, t2, tutf8) VALUES (1000 + {n}, 'átesting-binlog', 'Ärger', 'Café');
UPDATE {table} SET t1 = CONCAT('éupdated ', {n}), t2 = 'über upd', tutf8 = 'ü' WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE t1 = CONCAT('átesting ', ({n} * 13) % 300 + 1);
