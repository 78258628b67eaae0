INSERT INTO {table} (id, qty, price) VALUES (1000 + {n}, {n}, 1.25);
UPDATE {table} SET qty = qty + 1 WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
