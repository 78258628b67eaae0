INSERT INTO {table} (id, code, price, short_text) VALUES (1000 + {n}, {n}, 99999999.99, NULL);
UPDATE {table} SET code = -{n}, price = -price WHERE id = {n} % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
