UPDATE {table} SET qty = ({n} * 7) % 100 WHERE id = {n} % 200 + 1;
