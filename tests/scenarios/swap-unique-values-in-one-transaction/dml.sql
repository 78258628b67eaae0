-- swap the unique slot of rows a and b inside one transaction (a parked on -1 first);
-- the SELECT ... INTO runs on both tables and leaves the same values in @sa/@sb
BEGIN;
SELECT slot INTO @sa FROM {table} WHERE id = {n} % 400 + 1;
SELECT slot INTO @sb FROM {table} WHERE id = ({n} + 200) % 400 + 1;
UPDATE {table} SET slot = -1 WHERE id = {n} % 400 + 1;
UPDATE {table} SET slot = @sa WHERE id = ({n} + 200) % 400 + 1;
UPDATE {table} SET slot = @sb WHERE id = {n} % 400 + 1;
COMMIT;
