UPDATE {table} SET counter = counter + 1, v = CONCAT('tick ', {n}) WHERE id = 1;
