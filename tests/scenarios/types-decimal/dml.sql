INSERT INTO {table} (id, d65, du, d5, d0) VALUES (1000 + {n}, -{n}.000000000000000000000000000001, {n}.5, -{n} % 999, -{n});
UPDATE {table} SET d65 = d65 * -1, d5 = 0.05 WHERE id = {n} % 300 + 1;
UPDATE {table} SET du = NULL, d0 = 12345678901234567890 WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 5;
