REPLACE INTO {table} (id, info, data) VALUES (UNHEX(CONCAT(LPAD(HEX({n} % 400 + 1), 8, '0'), '000000000000000000000000')), CONCAT('info-', {n} % 400 + 1), CONCAT('replaced ', {n}));
INSERT INTO {table} (id, info, data) VALUES (UNHEX(CONCAT('AB', LPAD(HEX({n}), 8, '0'), '0000000000000000000000')), CONCAT('new-', {n}), NULL);
UPDATE {table} SET data = CONCAT('upd ', {n}) WHERE id = x'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00';
UPDATE {table} SET data = 'by info' WHERE info = CONCAT('info-', ({n} * 7) % 400 + 1);
DELETE FROM {table} WHERE id = UNHEX(CONCAT(LPAD(HEX(({n} * 13) % 400 + 1), 8, '0'), '000000000000000000000000'));
