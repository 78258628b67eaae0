UPDATE {table} SET v = v + 1 WHERE id = {n} % 100 + 1;
