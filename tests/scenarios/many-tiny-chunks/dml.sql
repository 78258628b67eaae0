UPDATE {table} SET v = v + 1 WHERE id = 2001 - ({n} * 3) % 2000;
DELETE FROM {table} WHERE id = ({n} * 13) % 2000 + 1;
INSERT IGNORE INTO {table} (id, v) VALUES (({n} * 17) % 2000 + 1, -{n});
