-- ids come from AUTO_INCREMENT; deleting the newest row must not let the migrated table reuse its id
INSERT INTO {table} (v, name) VALUES ({n} % 97, CONCAT('auto ', {n}));
INSERT INTO {table} (v, name) VALUES ({n} % 97, CONCAT('auto2 ', {n}));
DELETE FROM {table} ORDER BY id DESC LIMIT 1;
UPDATE {table} SET v = v + 1 WHERE id = {n} % 500 + 1;
