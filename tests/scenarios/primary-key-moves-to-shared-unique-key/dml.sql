INSERT INTO {table} (id, code, v) VALUES (1000 + {n}, CONCAT('new-', {n}), {n});
UPDATE {table} SET v = v + 1 WHERE id = {n} % 500 + 1;
UPDATE {table} SET id = id + 100000 WHERE code = CONCAT('code-', ({n} * 7) % 500 + 1) AND id < 100000;
DELETE FROM {table} WHERE code = CONCAT('code-', ({n} * 13) % 500 + 1);
