-- The ghost's only unique key is (id, a), which merely starts with the shared key (id):
-- an update of a must replace the row, never add (id, new a) beside (id, old a).
UPDATE {table} SET a = a + 1 WHERE id = ({n} * 7) % 400 + 1;
UPDATE {table} SET a = a + 1, b = b + 1 WHERE id = ({n} * 13) % 400 + 1;
INSERT INTO {table} (id, a, b) VALUES (1000 + {n}, {n} % 20, {n});
UPDATE {table} SET a = a + 100 WHERE id = 1000 + {n};
DELETE FROM {table} WHERE id = ({n} * 29) % 400 + 1;
