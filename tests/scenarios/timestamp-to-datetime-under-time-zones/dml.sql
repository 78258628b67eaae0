-- The load switches session time zones while it writes; it never writes ts itself, because
-- a TIMESTAMP literal means something else once the column is DATETIME (after the swap),
-- so only the server-side conversion of the copied and re-read values is compared.
SET time_zone = '-07:00';
INSERT INTO {table} (id, dt, ts) VALUES (1000 + {n} * 2, '2024-11-03 01:30:00.25', NULL);
UPDATE {table} SET dt = dt + INTERVAL 1 SECOND WHERE id = {n} % 300 + 1;
SET time_zone = '+09:00';
INSERT INTO {table} (id, dt, ts) VALUES (1001 + {n} * 2, '2024-11-03 01:30:00.75', NULL);
UPDATE {table} SET dt = dt - INTERVAL 1 DAY WHERE id = ({n} * 7) % 300 + 1;
SET time_zone = 'SYSTEM';
