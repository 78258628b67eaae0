INSERT INTO {table} (id, v, s) VALUES (1000 + {n}, {n}, 'x');
UPDATE {table} SET v = v + 1 WHERE id = {n} % 500 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 500 + 1;
