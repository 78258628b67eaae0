INSERT IGNORE INTO {table} (id, v) VALUES ({n} * 1000000000000, {n});
INSERT IGNORE INTO {table} (id, v) VALUES (-{n} * 31415926535, {n});
UPDATE {table} SET v = v + 1 WHERE id IN (-9223372036854775808, 9223372036854775807, 0);
UPDATE {table} SET v = -v WHERE id = ({n} % 299 + 2) * ({n} % 299 + 2) * ({n} % 299 + 2) * 1000;
DELETE FROM {table} WHERE id = 5000000000000000000 + {n} % 100;
