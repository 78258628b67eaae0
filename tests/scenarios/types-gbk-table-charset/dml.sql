INSERT INTO {table} (id, name) VALUES (1000 + {n}, CONCAT('汉字 ', {n}));
UPDATE {table} SET name = CONCAT('更新 ', {n}) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
