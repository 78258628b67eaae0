INSERT INTO {table} VALUES (1000 + {n}, CONCAT('ins ', {n}), {n});
REPLACE INTO {table} VALUES ({n} % 400 + 1, CONCAT('rep ', {n}), -{n});
UPDATE {table} SET `n` = `n` + 1 WHERE `id` = ({n} * 7) % 400 + 1;
DELETE FROM {table} WHERE `id` = ({n} * 13) % 400 + 1;
