INSERT INTO {table} (id, ti, si, mi, i, bi) VALUES (1000 + {n}, 255, 65535, 16777215, 4294967295, 18446744073709551615 - {n});
UPDATE {table} SET bi = 18446744073709551615 - {n}, i = 4294967295 - {n}, ti = 250 WHERE id = {n} % 300 + 1;
UPDATE {table} SET mi = 16777215, si = 65535 WHERE id = ({n} * 11) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 5;
