INSERT IGNORE INTO {table} (id) VALUES ({n} * 2 + 1);
UPDATE IGNORE {table} SET id = id + 1 WHERE id = ({n} * 7) % 1000;
DELETE FROM {table} WHERE id = ({n} * 13) % 1000;
