DELETE FROM {table} WHERE id = {n} % 500 + 1;
INSERT INTO {table} (id, v, note) VALUES ({n} % 500 + 1, {n}, 'reinserted');
BEGIN;
DELETE FROM {table} WHERE id = ({n} * 7) % 500 + 1;
INSERT INTO {table} (id, v, note) VALUES (({n} * 7) % 500 + 1, -{n}, 'same transaction');
COMMIT;
REPLACE INTO {table} (id, v, note) VALUES (({n} * 11) % 500 + 1, {n} * 2, 'replaced');
DELETE FROM {table} WHERE id = ({n} * 13) % 500 + 1;
