INSERT INTO {table} (id, name, a) VALUES (1000 + {n}, 'Ελληνικά ✓', 'x');
UPDATE {table} SET name = CONCAT('更新 ', {n}) WHERE id = {n} % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
