INSERT INTO {table} (id, body, bin) VALUES (1000 + {n}, REPEAT('big ', 30000), REPEAT(x'FE00', 20000));
UPDATE {table} SET body = CONCAT(body, 'tail') WHERE id = {n} % 100 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 100 + 1;
