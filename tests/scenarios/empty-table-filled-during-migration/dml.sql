INSERT INTO {table} (id, v) VALUES ({n}, CONCAT('v', {n}));
UPDATE {table} SET v = CONCAT(v, '!') WHERE id = {n} DIV 2;
DELETE FROM {table} WHERE id = {n} DIV 3 AND {n} % 3 = 0;
