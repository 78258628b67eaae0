INSERT INTO {table} (id, v, name, note) VALUES (1000 + {n}, {n} % 97, CONCAT('new ', {n}), 'fresh');
UPDATE {table} SET v = v + 1, name = CONCAT('upd ', {n}) WHERE id = {n} % 500 + 1;
UPDATE {table} SET note = CONCAT('late ', {n}) WHERE id = 500 - {n} % 100;
DELETE FROM {table} WHERE id = ({n} * 13) % 500 + 1;
INSERT IGNORE INTO {table} (id, v, name, note) VALUES (({n} * 17) % 500 + 1, 0, 'reinserted', NULL);
