INSERT INTO {table} (id, f, d, fu, fp) VALUES (1000 + {n}, {n} / 3, {n} * 1.0e290, 0.1, 0.125);
UPDATE {table} SET f = f / 2, d = -d WHERE id = {n} % 300 + 1;
UPDATE {table} SET f = 0.1, d = 0.3 WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 7;
