INSERT INTO {table} (`id`, `order`, `key`, `select`, `from`, `group`) VALUES (1000 + {n}, {n}, CONCAT('new', {n}), 'x', '2021-01-01', NULL);
UPDATE {table} SET `order` = `order` + 1, `select` = CONCAT('upd', {n}) WHERE `id` = {n} % 400 + 1;
UPDATE {table} SET `key` = CONCAT('moved', {n}) WHERE `key` = CONCAT('k', ({n} * 7) % 400 + 1);
DELETE FROM {table} WHERE `id` = ({n} * 13) % 400 + 1;
