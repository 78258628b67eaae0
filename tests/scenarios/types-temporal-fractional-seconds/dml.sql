INSERT INTO {table} (id, d, t, t6, dt, dt3, dt6, ts, ts6) VALUES (1000 + {n}, '2030-05-05', '-12:34:56', '-00:00:00.000001', '2030-05-05 05:05:05', '2030-05-05 05:05:05.050', '2030-05-05 05:05:05.000500', '2030-05-05 05:05:05', '2030-05-05 05:05:05.012300');
UPDATE {table} SET dt6 = dt6 + INTERVAL 1 MICROSECOND, ts6 = '2001-01-01 01:01:01.000001' + INTERVAL {n} SECOND, t6 = '-01:02:03.040506' WHERE id = {n} % 296 + 5;
UPDATE {table} SET dt3 = '2011-11-11 11:11:11.011', ts = NULL, d = NULL WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 5;
