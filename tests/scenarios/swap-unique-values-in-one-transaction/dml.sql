-- swap the unique slot of rows a and b inside one transaction (a parked on -1 first);
-- FOR UPDATE takes the write metadata lock at once: a transaction that reads and only
-- later writes can be chosen as a deadlock victim by any DDL, the cut-over RENAME included
BEGIN;
SELECT slot INTO @sa FROM {table} WHERE id = {n} % 400 + 1 FOR UPDATE;
SELECT slot INTO @sb FROM {table} WHERE id = ({n} + 200) % 400 + 1 FOR UPDATE;
UPDATE {table} SET slot = -1 WHERE id = {n} % 400 + 1;
UPDATE {table} SET slot = @sa WHERE id = ({n} + 200) % 400 + 1;
UPDATE {table} SET slot = @sb WHERE id = {n} % 400 + 1;
COMMIT;
