INSERT INTO {table} (a, b) VALUES ({n} % 50, CONCAT('n', {n}));
UPDATE {table} SET b = CONCAT(b, '.') WHERE a = {n} % 50 AND b LIKE 'v%';
