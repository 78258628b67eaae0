BEGIN;
UPDATE {table} SET k = k + 1 WHERE id = ({n} * 2654435761) % 3000 + 1;
UPDATE {table} SET c = REPEAT(LPAD({n}, 11, '7'), 10) WHERE id = ({n} * 40503) % 3000 + 1;
DELETE FROM {table} WHERE id = ({n} * 97) % 3000 + 1;
INSERT IGNORE INTO {table} (id, k, c, pad) VALUES (({n} * 97) % 3000 + 1, {n} % 3000, REPEAT('x', 119), REPEAT('y', 59));
COMMIT;
