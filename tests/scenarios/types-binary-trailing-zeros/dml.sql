INSERT INTO {table} (id, b, vb) VALUES (1000 + {n}, UNHEX(CONCAT(LPAD(HEX({n}), 4, '0'), '00')), UNHEX(CONCAT(LPAD(HEX({n}), 4, '0'), '0000')));
UPDATE {table} SET b = x'AB00', vb = x'AB0000' WHERE id = {n} % 300 + 1;
UPDATE {table} SET vb = CONCAT(vb, x'00') WHERE id = ({n} * 7) % 300 + 1 AND LENGTH(vb) < 16;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 5;
