-- walk down from the top of the key range while the copy walks up from the bottom
UPDATE {table} SET v = v + 1, s = CONCAT('touched at ', {n}) WHERE id BETWEEN 3001 - ({n} * 5) % 3000 - 4 AND 3001 - ({n} * 5) % 3000;
DELETE FROM {table} WHERE id = 3000 - ({n} * 7) % 1000;
INSERT IGNORE INTO {table} (id, v, s) VALUES (3000 - ({n} * 11) % 1000, {n}, 'back');
UPDATE {table} SET v = -v WHERE id = 2999;
