INSERT INTO {table} (id, u, ip) VALUES (1000 + {n}, CONCAT('abcdef00-0000-0000-0000-', LPAD(HEX({n}), 12, '0')), CONCAT('::ffff:10.0.', {n} % 256, '.0'));
UPDATE {table} SET u = '11111111-2222-3333-4444-555555555500', ip = '::ffff:192.168.0.0' WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 4;
