INSERT INTO {table} (id, info, data) VALUES (1000 + {n}, 'new', UNHEX(CONCAT(LPAD(HEX({n}), 6, '0'), '0000')));
UPDATE {table} SET data = x'EE00EE00' WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
