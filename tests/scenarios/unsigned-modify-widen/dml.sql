INSERT INTO {table} (id, mi, ti) VALUES (1000 + {n}, 16777215, 255);
UPDATE {table} SET mi = 16777215 - {n}, ti = 255 WHERE id = {n} % 300 + 1;
