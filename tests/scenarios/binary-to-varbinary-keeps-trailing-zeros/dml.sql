-- Writes use full 20-byte values: after the swap the column is VARBINARY and stores
-- exactly what is written, while BINARY(20) pads; the copied rows must keep their padding.
INSERT INTO {table} (id, info, data) VALUES (1000 + {n}, 'new', UNHEX(CONCAT(LPAD(HEX({n}), 6, '0'), REPEAT('00', 17))));
UPDATE {table} SET data = UNHEX(CONCAT('EE00EE00', REPEAT('00', 16))) WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
