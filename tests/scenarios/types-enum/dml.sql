INSERT INTO {table} (id, color, size) VALUES (1000 + {n}, ELT({n} % 5 + 1, 'red', 'green', 'blue', 'ÿellow', ''), ELT({n} % 3 + 1, 's', 'm', 'l'));
UPDATE {table} SET color = 'blue', size = NULL WHERE id = {n} % 300 + 1;
UPDATE {table} SET color = '' WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
