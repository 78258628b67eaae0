INSERT INTO {table} (id, b1, b8, b13, b64) VALUES (1000 + {n}, {n} % 2, {n} % 256, {n} % 8192, 0xFFFFFFFFFFFFFFFF - {n});
UPDATE {table} SET b1 = b1 ^ 1, b64 = 0xFFFFFFFFFFFFFFFF WHERE id = {n} % 300 + 1;
UPDATE {table} SET b8 = NULL, b13 = 0 WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 5;
