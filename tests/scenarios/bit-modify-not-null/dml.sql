INSERT INTO {table} (id, flag, i) VALUES (1000 + {n}, {n} % 2, {n});
INSERT INTO {table} (id, flag, i) VALUES (100000 + {n}, b'0', {n});
UPDATE {table} SET flag = flag ^ 1 WHERE id = {n} % 300 + 1;
