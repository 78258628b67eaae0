INSERT INTO {table} (id, created, v) VALUES (1000 + {n}, '2023-01-01' + INTERVAL {n} DAY, {n});
UPDATE {table} SET created = created + INTERVAL 200 DAY WHERE id = {n} % 900 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 900 + 1;
