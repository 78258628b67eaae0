INSERT INTO {table} (id, ti, si, mi, i, bi, b) VALUES (1000 + {n}, -128, -32768, -8388608, -2147483648, -9223372036854775808, 127);
INSERT INTO {table} (id, ti, si, mi, i, bi, b) VALUES (100000 + {n}, 127, 32767, 8388607, 2147483647, 9223372036854775807, -128);
UPDATE {table} SET ti = -ti - 1, bi = -9223372036854775808 + {n} WHERE id = {n} % 300 + 1;
UPDATE {table} SET bi = 9223372036854775807 - {n}, i = NULL WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 6;
