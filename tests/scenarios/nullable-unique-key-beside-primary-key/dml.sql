INSERT INTO {table} (id, code, v) VALUES (1000 + {n}, NULL, {n});
UPDATE {table} SET code = NULL WHERE id = {n} % 500 + 1;
UPDATE IGNORE {table} SET code = CONCAT('re', {n}) WHERE id = ({n} * 7) % 500 + 1;
DELETE FROM {table} WHERE id = ({n} * 13) % 500 + 1;
