SET time_zone = '-07:00';
INSERT INTO {table} (id, dt, ts) VALUES (1000 + {n} * 2, '2024-11-03 01:30:00.25', '2024-11-03 01:30:00');
UPDATE {table} SET ts = '2025-01-01 00:00:00' WHERE id = {n} % 300 + 1;
SET time_zone = '+09:00';
INSERT INTO {table} (id, dt, ts) VALUES (1001 + {n} * 2, '2024-11-03 01:30:00.75', '2024-11-03 01:30:00');
UPDATE {table} SET ts = ts - INTERVAL 1 DAY WHERE id = ({n} * 7) % 300 + 1;
SET time_zone = 'SYSTEM';
