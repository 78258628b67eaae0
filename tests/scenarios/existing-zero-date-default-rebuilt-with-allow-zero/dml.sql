INSERT INTO {table} (id, v) VALUES (2000 + {n}, {n});
UPDATE {table} SET dt = '0000-00-00 00:00:00' WHERE id = {n} % 300 + 1;
