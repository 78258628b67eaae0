UPDATE {table} SET hits = hits + 1, last_n = {n} WHERE id = 1;
UPDATE {table} SET hits = hits + 1, last_n = {n} WHERE id = 1;
UPDATE {table} SET hits = hits + 1, last_n = {n} WHERE id = 1000;
UPDATE {table} SET hits = hits + 2 WHERE id = 500;
UPDATE {table} SET hits = hits + 1 WHERE id = 1 AND {n} % 2 = 0;
