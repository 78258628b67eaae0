INSERT INTO {table} (id) VALUES (1000 + {n});
INSERT INTO {table} (id, i, d, f, s, t, b, e, st, j, dt, ts, y, bt) VALUES (100000 + {n}, 0, 0, 0, '', '', x'', 'b', '', 'null', '2021-01-01', '2021-01-01 00:00:00', 2021, 1);
UPDATE {table} SET i = NULL, d = NULL, f = NULL, s = NULL, t = NULL, b = NULL, e = NULL, st = NULL, j = NULL, dt = NULL, ts = NULL, y = NULL, bt = NULL WHERE id = {n} % 150 + 151;
UPDATE {table} SET i = {n}, d = 1.5, f = 0, s = 'NULL', t = '', b = x'00', e = 'a', st = 'a,b', j = '[null]', dt = '2000-01-01', ts = '2000-01-01 00:00:00', y = 2000, bt = 31 WHERE id = {n} % 150 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
