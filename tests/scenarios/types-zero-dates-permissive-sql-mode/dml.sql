INSERT INTO {table} (id, d, dt, ts, half) VALUES (1000 + {n}, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2025-07-00');
UPDATE {table} SET dt = '0000-00-00 00:00:00', half = '0000-00-00' WHERE id = {n} % 300 + 1;
UPDATE {table} SET d = '2020-02-02', ts = '2020-02-02 02:02:02' WHERE id = ({n} * 7) % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 4;
