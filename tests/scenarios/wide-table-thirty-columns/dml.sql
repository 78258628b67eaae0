INSERT INTO {table} (c01, c02, c04, c05, c06, c09, c11, c12, c14, c15, c17, c18, c19, c20, c22, c25, c26, c27, c28, c30) VALUES (-1, 65535, {n}, 18446744073709551615, -1.5, 1023, CONCAT('ins ', {n}), 'text', x'00000000', x'0000', 'z', 'q', '[1,2]', '2030-01-01', '2030-01-01 00:00:00.5', 'é', '😀', TRUE, {n}, 'ins');
UPDATE {table} SET c04 = c04 + 1, c11 = CONCAT(c11, '+'), c19 = JSON_SET(c19, '$.u', {n}), c22 = c22 + INTERVAL 1 SECOND WHERE id = {n} % 400 + 1;
UPDATE {table} SET c02 = NULL, c16 = NULL, c18 = '', c25 = _latin1 x'8190' WHERE id = ({n} * 7) % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
