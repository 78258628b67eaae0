SET time_zone = '+00:00';
INSERT INTO {table} (id, ts, v) VALUES ({n} % 50, '2025-01-01 00:00:00.000001' + INTERVAL {n} * 10 MICROSECOND, {n});
UPDATE {table} SET v = v + 1 WHERE id = {n} % 50 ORDER BY ts LIMIT 2;
UPDATE {table} SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = ({n} * 7) % 50 ORDER BY ts DESC LIMIT 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 50 ORDER BY ts LIMIT 1;
SET time_zone = 'SYSTEM';
