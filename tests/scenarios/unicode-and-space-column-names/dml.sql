INSERT INTO {table} (`id`, `first name`, `naïve café`, `列名`, `a``quote`, `Ω-dash.dot`) VALUES (1000 + {n}, 'Name', {n}, '新', {n}, {n});
UPDATE {table} SET `naïve café` = `naïve café` + 1, `列名` = CONCAT('改', {n}), `a``quote` = NULL WHERE `id` = {n} % 400 + 1;
DELETE FROM {table} WHERE `id` = ({n} * 13) % 400 + 1;
