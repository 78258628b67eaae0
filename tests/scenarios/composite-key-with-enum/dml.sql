INSERT INTO {table} (id, kind, v) VALUES (1000 + {n}, 'mm', {n});
UPDATE IGNORE {table} SET kind = 'zz' WHERE id = {n} % 200 AND kind = 'aa';
UPDATE {table} SET v = -v WHERE id = ({n} * 7) % 200;
DELETE FROM {table} WHERE id = ({n} * 13) % 200 AND kind = 'mm';
