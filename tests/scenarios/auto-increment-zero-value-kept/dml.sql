UPDATE {table} SET v = CONCAT('zero ', {n}) WHERE id = 0;
INSERT INTO {table} (id, v) VALUES (1000 + {n}, 'new');
DELETE FROM {table} WHERE id = 0 AND {n} % 10 = 5;
INSERT IGNORE INTO {table} (id, v) VALUES (0, 'zero again');
