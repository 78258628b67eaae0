INSERT INTO {table} (id, i, ts) VALUES (1000 + {n}, {n} % 10, '2021-01-01 00:00:00.000001' + INTERVAL {n} SECOND);
UPDATE {table} SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = {n} % 400 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 400 + 1;
