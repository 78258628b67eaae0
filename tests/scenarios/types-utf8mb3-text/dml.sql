INSERT INTO {table} (id, name, body) VALUES (1000 + {n}, CONCAT('Привет ', {n}), 'שלום עולם — ∑ ∞ ≠');
UPDATE {table} SET name = CONCAT('中文 ', {n}) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
