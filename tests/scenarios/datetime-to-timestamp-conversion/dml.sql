INSERT INTO {table} (id, t) VALUES (1000 + {n}, '2024-06-01 12:00:00.250' + INTERVAL {n} SECOND);
UPDATE {table} SET t = '2025-01-01 00:00:00.999' WHERE id = {n} % 300 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 300 + 1;
