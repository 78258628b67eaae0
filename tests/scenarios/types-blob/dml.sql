INSERT INTO {table} (id, tb, b, mb) VALUES (2000 + {n}, x'00000000', REPEAT(x'DEADBEEF00', {n} % 100), REPEAT(x'0A0D00', 1000));
UPDATE {table} SET b = CONCAT(b, x'00'), mb = x'' WHERE id = {n} % 300 + 1;
UPDATE {table} SET tb = NULL WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
