INSERT INTO {table} (id, name) VALUES (1000 + {n}, IF({n} % 2 = 0, 'Mixed', 'mixed'));
UPDATE {table} SET name = UPPER(name) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
