INSERT INTO {table} (id, y) VALUES (1000 + {n}, 1901 + {n} % 255);
INSERT INTO {table} (id, y) VALUES (100000 + {n}, 0);
UPDATE {table} SET y = 0 WHERE id = {n} % 300 + 1;
UPDATE {table} SET y = 2155 WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 7;
